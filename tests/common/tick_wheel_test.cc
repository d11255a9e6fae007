#include "common/tick_wheel.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats {
namespace {

using test::SimulatedTime;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Fired {
  absl::Time slot;
  std::vector<int> items;
};

class TickWheelTest : public ::testing::Test {
 protected:
  std::shared_ptr<TickWheel<int>> wheel_ =
      TickWheel<int>::Create(&time_.scheduler(), absl::Milliseconds(1), [this](std::vector<int>& due, absl::Time slot) {
        fired_.push_back({slot, due});
      });

  SimulatedTime time_;
  std::vector<Fired> fired_;
};

TEST_F(TickWheelTest, ItemsInOneSlotFireTogetherFromOneTask) {
  const absl::Time t0 = time_.Now();
  wheel_->Add(t0 + absl::Microseconds(100), 1);
  wheel_->Add(t0 + absl::Microseconds(900), 2);
  wheel_->Add(t0 + absl::Milliseconds(1), 3);
  EXPECT_EQ(time_.scheduler().pending(), 1u);
  EXPECT_EQ(wheel_->size(), 3u);
  time_.Advance(absl::Microseconds(999));
  EXPECT_THAT(fired_, IsEmpty());
  time_.Advance(absl::Microseconds(1));
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].slot, t0 + absl::Milliseconds(1));
  EXPECT_THAT(fired_[0].items, ElementsAre(1, 2, 3));
  EXPECT_EQ(wheel_->size(), 0u);
}

TEST_F(TickWheelTest, DeadlineOnASlotBoundaryFiresAtIt) {
  const absl::Time t0 = time_.Now();  // whole milliseconds
  EXPECT_EQ(wheel_->SlotOf(t0), t0);
  wheel_->Add(t0, 7);
  time_.RunDue();
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_THAT(fired_[0].items, ElementsAre(7));
}

TEST_F(TickWheelTest, SlotsFireInOrderAndItemsReArm) {
  const absl::Time t0 = time_.Now();
  wheel_->Add(t0 + absl::Milliseconds(5), 5);
  wheel_->Add(t0 + absl::Milliseconds(2), 2);
  time_.Advance(absl::Milliseconds(10));
  ASSERT_EQ(fired_.size(), 2u);
  EXPECT_THAT(fired_[0].items, ElementsAre(2));
  EXPECT_THAT(fired_[1].items, ElementsAre(5));
  // Added again after firing: a new slot, a new task.
  wheel_->Add(t0 + absl::Milliseconds(2), 9);  // in the past: fires at once
  time_.RunDue();
  ASSERT_EQ(fired_.size(), 3u);
  EXPECT_THAT(fired_[2].items, ElementsAre(9));
}

TEST(TickWheelLifetimeTest, SlotFiringAfterTheWheelIsGoneDoesNothing) {
  SimulatedTime time;
  int calls = 0;
  auto wheel = TickWheel<int>::Create(&time.scheduler(), absl::Milliseconds(1),
                                      [&calls](std::vector<int>&, absl::Time) { ++calls; });
  wheel->Add(time.Now() + absl::Milliseconds(3), 1);
  wheel.reset();
  time.Advance(absl::Milliseconds(5));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(time.scheduler().pending(), 0u);
}

}  // namespace
}  // namespace moq_stats
