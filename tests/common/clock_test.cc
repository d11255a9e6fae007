#include "common/clock.h"

#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

TEST(SimulatedClockTest, StartsAtGivenReadings) {
  const absl::Time start = absl::UnixEpoch() + absl::Hours(5);
  SimulatedClock clock(start, 1'234'567);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.UnixMillis(), 1'234'567);
}

TEST(SimulatedClockTest, DefaultReadings) {
  SimulatedClock clock;
  EXPECT_EQ(clock.Now(), absl::UnixEpoch() + absl::Hours(1));
  EXPECT_EQ(clock.UnixMillis(), 1'700'000'000'000);
}

TEST(SimulatedClockTest, StandsStillUntilAdvanced) {
  SimulatedClock clock;
  const absl::Time now = clock.Now();
  const int64_t millis = clock.UnixMillis();
  EXPECT_EQ(clock.Now(), now);
  EXPECT_EQ(clock.UnixMillis(), millis);
}

TEST(SimulatedClockTest, AdvanceMovesBothReadingsTogether) {
  SimulatedClock clock;
  const absl::Time start = clock.Now();
  const int64_t start_millis = clock.UnixMillis();

  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(250));
  EXPECT_EQ(clock.UnixMillis(), start_millis + 250);

  clock.Advance(absl::Seconds(3));
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(3250));
  EXPECT_EQ(clock.UnixMillis(), start_millis + 3250);

  clock.Advance(absl::Hours(24));
  EXPECT_EQ(clock.Now() - start, absl::Hours(24) + absl::Milliseconds(3250));
  EXPECT_EQ(clock.UnixMillis() - start_millis, 24 * 3600 * 1000 + 3250);
}

TEST(SimulatedClockTest, SubMillisecondAdvancesAccumulate) {
  SimulatedClock clock;
  const absl::Time start = clock.Now();
  const int64_t start_millis = clock.UnixMillis();

  clock.Advance(absl::Microseconds(600));
  EXPECT_EQ(clock.Now(), start + absl::Microseconds(600));
  EXPECT_EQ(clock.UnixMillis(), start_millis);  // not yet a whole millisecond
  clock.Advance(absl::Microseconds(600));
  EXPECT_EQ(clock.Now(), start + absl::Microseconds(1200));
  EXPECT_EQ(clock.UnixMillis(), start_millis + 1);
}

TEST(SimulatedClockTest, NegativeAdvanceIsIgnored) {
  SimulatedClock clock;
  clock.Advance(absl::Seconds(10));
  const absl::Time now = clock.Now();
  const int64_t millis = clock.UnixMillis();

  clock.Advance(absl::Seconds(-5));
  EXPECT_EQ(clock.Now(), now);
  EXPECT_EQ(clock.UnixMillis(), millis);

  clock.Advance(-absl::InfiniteDuration());
  EXPECT_EQ(clock.Now(), now);
  EXPECT_EQ(clock.UnixMillis(), millis);
}

TEST(SimulatedClockTest, ZeroAdvanceChangesNothing) {
  SimulatedClock clock;
  const absl::Time now = clock.Now();
  const int64_t millis = clock.UnixMillis();
  clock.Advance(absl::ZeroDuration());
  EXPECT_EQ(clock.Now(), now);
  EXPECT_EQ(clock.UnixMillis(), millis);
}

TEST(SimulatedClockTest, UsableThroughClockInterface) {
  SimulatedClock simulated(absl::UnixEpoch() + absl::Seconds(7), 42);
  const Clock& clock = simulated;
  simulated.Advance(absl::Milliseconds(8));
  EXPECT_EQ(clock.Now(), absl::UnixEpoch() + absl::Seconds(7) + absl::Milliseconds(8));
  EXPECT_EQ(clock.UnixMillis(), 50);
}

TEST(RealClockTest, IsASingleInstance) {
  ASSERT_NE(Clock::Real(), nullptr);
  EXPECT_EQ(Clock::Real(), Clock::Real());
}

TEST(RealClockTest, NowIsMonotonic) {
  const Clock* clock = Clock::Real();
  absl::Time previous = clock->Now();
  for (int i = 0; i < 1000; ++i) {
    absl::Time next = clock->Now();
    ASSERT_GE(next, previous) << "at read " << i;
    previous = next;
  }
}

TEST(RealClockTest, UnixMillisIsNearWallClock) {
  const int64_t before = absl::ToUnixMillis(absl::Now());
  const int64_t millis = Clock::Real()->UnixMillis();
  const int64_t after = absl::ToUnixMillis(absl::Now());
  // The wall clock may be stepped between reads; allow generous slack while
  // still catching a wrong epoch or unit (seconds, micros, steady clock).
  EXPECT_GE(millis, before - 5'000);
  EXPECT_LE(millis, after + 5'000);
}

}  // namespace
}  // namespace moq_stats
