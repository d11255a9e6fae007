#include "common/refusal_log.h"

#include "gtest/gtest.h"

namespace moq_stats {
namespace {

TEST(RefusalLogTest, FirstRefusalIsLoggedAtOnceThenOneLinePerIntervalWithTheCount) {
  RefusalLog log(absl::Seconds(10));
  const absl::Time t0 = absl::UnixEpoch() + absl::Hours(1);
  EXPECT_EQ(log.Refused(t0), 1u);
  // A flood within the interval: no line.
  for (int i = 1; i <= 999; ++i) EXPECT_EQ(log.Refused(t0 + absl::Milliseconds(i)), 0u) << i;
  // The next refusal after the interval reports all of them.
  EXPECT_EQ(log.Refused(t0 + absl::Seconds(10)), 1000u);
  EXPECT_EQ(log.Refused(t0 + absl::Seconds(11)), 0u);
  EXPECT_EQ(log.Refused(t0 + absl::Seconds(25)), 2u);
  EXPECT_EQ(log.total(), 1003u);
}

}  // namespace
}  // namespace moq_stats
