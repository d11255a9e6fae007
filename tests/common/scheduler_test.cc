#include "common/scheduler.h"

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Driven by hand: `t0_` is an arbitrary start, deadlines are offsets from it.
class SchedulerTest : public ::testing::Test {
 protected:
  absl::Time At(int64_t ms) const { return t0_ + absl::Milliseconds(ms); }

  // A task that appends `name` to `ran_`.
  Scheduler::Task Record(std::string name) {
    return [this, name = std::move(name)] { ran_.push_back(name); };
  }

  const absl::Time t0_ = SimulatedClock().Now();
  Scheduler scheduler_;
  std::vector<std::string> ran_;
};

TEST_F(SchedulerTest, EmptySchedulerHasNothingPending) {
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.NextDeadline(), std::nullopt);
  EXPECT_EQ(scheduler_.RunDue(absl::InfiniteFuture()), 0u);
}

TEST_F(SchedulerTest, RunsInDeadlineOrder) {
  scheduler_.ScheduleAt(At(30), Record("c"));
  scheduler_.ScheduleAt(At(10), Record("a"));
  scheduler_.ScheduleAt(At(20), Record("b"));

  EXPECT_EQ(scheduler_.RunDue(At(30)), 3u);
  EXPECT_THAT(ran_, ElementsAre("a", "b", "c"));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(SchedulerTest, EqualDeadlinesRunInSchedulingOrder) {
  scheduler_.ScheduleAt(At(10), Record("first"));
  scheduler_.ScheduleAt(At(5), Record("early"));
  scheduler_.ScheduleAt(At(10), Record("second"));
  scheduler_.ScheduleAt(At(10), Record("third"));
  scheduler_.ScheduleAt(At(10), Record("fourth"));

  EXPECT_EQ(scheduler_.RunDue(At(10)), 5u);
  EXPECT_THAT(ran_, ElementsAre("early", "first", "second", "third", "fourth"));
}

TEST_F(SchedulerTest, TasksNotDueDoNotRun) {
  scheduler_.ScheduleAt(At(10), Record("a"));
  scheduler_.ScheduleAt(At(20), Record("b"));

  EXPECT_EQ(scheduler_.RunDue(At(9)), 0u);
  EXPECT_THAT(ran_, IsEmpty());
  EXPECT_EQ(scheduler_.pending(), 2u);

  // Due exactly at the deadline, not a nanosecond before.
  EXPECT_EQ(scheduler_.RunDue(At(20) - absl::Nanoseconds(1)), 1u);
  EXPECT_THAT(ran_, ElementsAre("a"));
  EXPECT_EQ(scheduler_.pending(), 1u);

  EXPECT_EQ(scheduler_.RunDue(At(20)), 1u);
  EXPECT_THAT(ran_, ElementsAre("a", "b"));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(SchedulerTest, TaskRunsOnlyOnce) {
  scheduler_.ScheduleAt(At(10), Record("a"));
  EXPECT_EQ(scheduler_.RunDue(At(10)), 1u);
  EXPECT_EQ(scheduler_.RunDue(At(10)), 0u);
  EXPECT_EQ(scheduler_.RunDue(At(1000)), 0u);
  EXPECT_THAT(ran_, ElementsAre("a"));
}

TEST_F(SchedulerTest, PastDeadlineRunsAtNextRunDue) {
  scheduler_.ScheduleAt(At(-50), Record("late"));
  EXPECT_EQ(scheduler_.RunDue(At(0)), 1u);
  EXPECT_THAT(ran_, ElementsAre("late"));
}

TEST_F(SchedulerTest, TasksScheduledByARunningTaskForNowOrEarlierRunInTheSameRunDue) {
  scheduler_.ScheduleAt(At(10), [this] {
    ran_.push_back("parent");
    scheduler_.ScheduleAt(At(10), Record("child-at-now"));
    scheduler_.ScheduleAt(At(3), Record("child-in-past"));
    scheduler_.ScheduleAt(At(10) + absl::Nanoseconds(1), Record("child-later"));
  });
  scheduler_.ScheduleAt(At(10), Record("sibling"));

  EXPECT_EQ(scheduler_.RunDue(At(10)), 4u);
  // The past child has the earliest deadline; the at-now child was scheduled
  // after the sibling, so it runs after it.
  EXPECT_THAT(ran_, ElementsAre("parent", "child-in-past", "sibling", "child-at-now"));
  EXPECT_EQ(scheduler_.pending(), 1u);
  EXPECT_EQ(scheduler_.NextDeadline(), At(10) + absl::Nanoseconds(1));

  EXPECT_EQ(scheduler_.RunDue(At(11)), 1u);
  EXPECT_THAT(ran_, ElementsAre("parent", "child-in-past", "sibling", "child-at-now", "child-later"));
}

TEST_F(SchedulerTest, SelfReschedulingTaskRunsOncePerRunDue) {
  // A periodic tick: each run schedules the next one a period later.
  int ticks = 0;
  std::function<void()> tick;
  absl::Time next = At(100);
  tick = [&] {
    ++ticks;
    next += absl::Milliseconds(100);
    scheduler_.ScheduleAt(next, [&] { tick(); });
  };
  scheduler_.ScheduleAt(next, [&] { tick(); });

  EXPECT_EQ(scheduler_.RunDue(At(100)), 1u);
  EXPECT_EQ(ticks, 1);
  EXPECT_EQ(scheduler_.NextDeadline(), At(200));
  EXPECT_EQ(scheduler_.RunDue(At(150)), 0u);
  EXPECT_EQ(scheduler_.RunDue(At(350)), 2u);  // catches up on 200 and 300
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(scheduler_.NextDeadline(), At(400));
}

TEST_F(SchedulerTest, NextDeadlineAndPendingTrackTheHeap) {
  scheduler_.ScheduleAt(At(30), Record("c"));
  EXPECT_EQ(scheduler_.NextDeadline(), At(30));
  EXPECT_EQ(scheduler_.pending(), 1u);

  scheduler_.ScheduleAt(At(10), Record("a"));
  EXPECT_EQ(scheduler_.NextDeadline(), At(10));
  EXPECT_EQ(scheduler_.pending(), 2u);

  scheduler_.ScheduleAt(At(20), Record("b"));
  EXPECT_EQ(scheduler_.NextDeadline(), At(10));
  EXPECT_EQ(scheduler_.pending(), 3u);

  scheduler_.RunDue(At(10));
  EXPECT_EQ(scheduler_.NextDeadline(), At(20));
  EXPECT_EQ(scheduler_.pending(), 2u);

  scheduler_.RunDue(At(30));
  EXPECT_EQ(scheduler_.NextDeadline(), std::nullopt);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(SchedulerTest, AcceptsMoveOnlyTasks) {
  auto value = std::make_unique<int>(7);
  int seen = 0;
  scheduler_.ScheduleAt(At(1), [&seen, value = std::move(value)] { seen = *value; });
  EXPECT_EQ(scheduler_.RunDue(At(1)), 1u);
  EXPECT_EQ(seen, 7);
}

TEST_F(SchedulerTest, WakeupCalledOnlyWhenTaskBecomesEarliest) {
  std::vector<std::optional<absl::Time>> wakeups;
  // The wakeup runs with no Scheduler lock held, so it may read the
  // scheduler; it sees the new task already in place.
  scheduler_.SetWakeup([&] { wakeups.push_back(scheduler_.NextDeadline()); });

  scheduler_.ScheduleAt(At(50), Record("a"));  // first task: earliest
  EXPECT_THAT(wakeups, ElementsAre(At(50)));

  scheduler_.ScheduleAt(At(70), Record("b"));  // later: no wakeup
  EXPECT_EQ(wakeups.size(), 1u);

  scheduler_.ScheduleAt(At(50), Record("c"));  // equal to earliest: no wakeup
  EXPECT_EQ(wakeups.size(), 1u);

  scheduler_.ScheduleAt(At(20), Record("d"));  // earlier: wakeup
  EXPECT_THAT(wakeups, ElementsAre(At(50), At(20)));

  scheduler_.ScheduleAt(At(60), Record("e"));  // in between: no wakeup
  EXPECT_EQ(wakeups.size(), 2u);

  // Running tasks does not call the wakeup.
  scheduler_.RunDue(At(100));
  EXPECT_EQ(wakeups.size(), 2u);

  // With nothing pending, the next task is the earliest again.
  scheduler_.ScheduleAt(At(500), Record("f"));
  EXPECT_THAT(wakeups, ElementsAre(At(50), At(20), At(500)));
}

TEST_F(SchedulerTest, ClearedWakeupIsNotCalled) {
  int wakeups = 0;
  scheduler_.SetWakeup([&] { ++wakeups; });
  scheduler_.ScheduleAt(At(10), Record("a"));
  EXPECT_EQ(wakeups, 1);
  scheduler_.SetWakeup(nullptr);
  scheduler_.ScheduleAt(At(5), Record("b"));
  EXPECT_EQ(wakeups, 1);
  EXPECT_EQ(scheduler_.NextDeadline(), At(5));
}

TEST_F(SchedulerTest, ShutdownDropsPendingTasksUnrun) {
  auto capture = std::make_shared<int>(0);
  scheduler_.ScheduleAt(At(10), [this, capture] { ran_.push_back("a"); });
  scheduler_.ScheduleAt(At(20), Record("b"));
  ASSERT_EQ(capture.use_count(), 2);

  scheduler_.Shutdown();
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.NextDeadline(), std::nullopt);
  // The dropped task has been destroyed, releasing what it captured.
  EXPECT_EQ(capture.use_count(), 1);

  EXPECT_EQ(scheduler_.RunDue(absl::InfiniteFuture()), 0u);
  EXPECT_THAT(ran_, IsEmpty());
}

TEST_F(SchedulerTest, ShutdownRefusesNewTasks) {
  int wakeups = 0;
  scheduler_.SetWakeup([&] { ++wakeups; });
  scheduler_.Shutdown();

  auto capture = std::make_shared<int>(0);
  scheduler_.ScheduleAt(At(10), [this, capture] { ran_.push_back("after-shutdown"); });
  EXPECT_EQ(capture.use_count(), 1);  // dropped, not kept
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.NextDeadline(), std::nullopt);
  EXPECT_EQ(wakeups, 0);

  EXPECT_EQ(scheduler_.RunDue(absl::InfiniteFuture()), 0u);
  EXPECT_THAT(ran_, IsEmpty());
}

TEST_F(SchedulerTest, ShutdownFromATaskStopsTheRest) {
  // A task that shuts the scheduler down stops further tasks, including the
  // ones already due in the same RunDue.
  scheduler_.ScheduleAt(At(10), [this] {
    ran_.push_back("stopper");
    scheduler_.Shutdown();
    scheduler_.ScheduleAt(At(10), Record("refused"));
  });
  scheduler_.ScheduleAt(At(10), Record("dropped"));

  EXPECT_EQ(scheduler_.RunDue(At(10)), 1u);
  EXPECT_THAT(ran_, ElementsAre("stopper"));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

// The one test with a real thread and the real clock. It waits for events
// (a notification, a join), bounded, and never sleeps for a tick.
TEST(SchedulerThreadTest, RunsDueTaskAndJoinsWithFarFutureTaskPending) {
  const Clock* clock = Clock::Real();
  Scheduler scheduler;
  absl::Notification ran;
  std::thread::id ran_on;
  bool far_future_ran = false;  // read only after the driving thread joined
  {
    SchedulerThread driver(&scheduler, clock);
    scheduler.ScheduleAt(clock->Now(), [&] {
      ran_on = std::this_thread::get_id();
      ran.Notify();
    });
    ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_NE(ran_on, std::this_thread::get_id());

    scheduler.ScheduleAt(clock->Now() + absl::Hours(1), [&] { far_future_ran = true; });
    EXPECT_EQ(scheduler.pending(), 1u);
    // `driver` is destroyed here: it must stop and join although a task is
    // pending (a hang here is caught by the test's ctest timeout).
  }
  EXPECT_FALSE(far_future_ran);
  // Stopping the driver leaves the scheduler's tasks alone.
  EXPECT_EQ(scheduler.pending(), 1u);
  EXPECT_TRUE(scheduler.NextDeadline().has_value());
}

}  // namespace
}  // namespace moq_stats
