#include "origin_bridge/bridge/backoff.h"

#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace moq_stats::bridge {
namespace {

// Always the top of the range: shows the cap itself.
Backoff::RandomFn Max() {
  return [](uint64_t max) { return max; };
}

TEST(BackoffTest, CapDoublesFrom250msTo30s) {
  Backoff backoff(BackoffOptions{}, Max());
  std::vector<uint64_t> delays;
  for (int i = 0; i < 10; ++i) delays.push_back(backoff.NextDelayMs());
  EXPECT_EQ(delays, (std::vector<uint64_t>{250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
}

TEST(BackoffTest, StaysAtTheCapForever) {
  Backoff backoff(BackoffOptions{}, Max());
  for (int i = 0; i < 10000; ++i) backoff.NextDelayMs();
  EXPECT_EQ(backoff.NextDelayMs(), 30000u);
  EXPECT_LT(backoff.attempts(), 16u);
}

TEST(BackoffTest, FullJitterWithinZeroAndTheCap) {
  Backoff backoff(BackoffOptions{}, Backoff::SeededRandom(42));
  uint64_t below_half = 0;
  for (int i = 0; i < 2000; ++i) {
    uint64_t cap = backoff.current_cap_ms();
    uint64_t d = backoff.NextDelayMs();
    EXPECT_LE(d, cap);
    if (i >= 10 && d < cap / 2) ++below_half;
  }
  // Uniform over [0, 30000]: about half fall below 15 s.
  EXPECT_GT(below_half, 800u);
  EXPECT_LT(below_half, 1200u);
}

TEST(BackoffTest, SameSeedSameDelays) {
  Backoff a(BackoffOptions{}, Backoff::SeededRandom(7));
  Backoff b(BackoffOptions{}, Backoff::SeededRandom(7));
  Backoff c(BackoffOptions{}, Backoff::SeededRandom(8));
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    uint64_t da = a.NextDelayMs();
    EXPECT_EQ(da, b.NextDelayMs());
    differs = differs || da != c.NextDelayMs();
  }
  EXPECT_TRUE(differs);
}

TEST(BackoffTest, ResetsAfterASessionStayedUpLongEnough) {
  Backoff backoff(BackoffOptions{}, Max());
  for (int i = 0; i < 5; ++i) backoff.NextDelayMs();
  EXPECT_EQ(backoff.current_cap_ms(), 8000u);
  backoff.OnSessionEnded(29'999);
  EXPECT_EQ(backoff.current_cap_ms(), 8000u);
  backoff.OnSessionEnded(30'000);
  EXPECT_EQ(backoff.current_cap_ms(), 250u);
  EXPECT_EQ(backoff.NextDelayMs(), 250u);
}

TEST(BackoffTest, ZeroDelayOptionForTests) {
  BackoffOptions options;
  options.initial_delay = absl::ZeroDuration();
  Backoff backoff(options, Max());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(backoff.NextDelayMs(), 0u);
}

TEST(BackoffTest, RandomSourceAboveTheCapIsClamped) {
  Backoff backoff(BackoffOptions{}, [](uint64_t) { return uint64_t{1} << 40; });
  EXPECT_EQ(backoff.NextDelayMs(), 250u);
}

}  // namespace
}  // namespace moq_stats::bridge
