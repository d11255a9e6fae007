// IdleSessions' rule, with the time passed in: idle from tracking until the
// first subscription, not idle while subscribed, idle again from the end of
// the last subscription; expired at the timeout, not before.

#include "origin_bridge/bridge/idle_sessions.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Duration kTimeout = absl::Seconds(60);
const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(IdleSessionsTest, ExpiresAtTheTimeoutNotBefore) {
  IdleSessions idle(kTimeout);
  idle.Track(1, kStart);
  idle.Track(2, kStart + absl::Seconds(5));
  EXPECT_EQ(idle.NextDeadline(), kStart + kTimeout);
  EXPECT_THAT(idle.TakeExpired(kStart + kTimeout - absl::Nanoseconds(1)), IsEmpty());
  EXPECT_THAT(idle.TakeExpired(kStart + kTimeout), ElementsAre(1u));
  // Taken once: no longer tracked.
  EXPECT_EQ(idle.tracked(), 1u);
  EXPECT_EQ(idle.NextDeadline(), kStart + absl::Seconds(5) + kTimeout);
  EXPECT_THAT(idle.TakeExpired(kStart + absl::Hours(1)), ElementsAre(2u));
  EXPECT_EQ(idle.NextDeadline(), std::nullopt);
}

TEST(IdleSessionsTest, SubscribedSessionNeverExpires) {
  IdleSessions idle(kTimeout);
  idle.Track(7, kStart);
  idle.SetSubscribed(7, true, kStart + absl::Seconds(1));
  EXPECT_EQ(idle.NextDeadline(), std::nullopt);
  EXPECT_THAT(idle.TakeExpired(kStart + absl::Hours(24)), IsEmpty());
  EXPECT_EQ(idle.tracked(), 1u);
  EXPECT_EQ(idle.idle(), 0u);
}

TEST(IdleSessionsTest, IdleTimeRestartsWhenTheLastSubscriptionEnds) {
  IdleSessions idle(kTimeout);
  idle.Track(3, kStart);
  idle.SetSubscribed(3, true, kStart + absl::Seconds(59));
  const absl::Time ended = kStart + absl::Minutes(10);
  idle.SetSubscribed(3, false, ended);
  EXPECT_EQ(idle.NextDeadline(), ended + kTimeout);
  EXPECT_THAT(idle.TakeExpired(ended + kTimeout - absl::Milliseconds(1)), IsEmpty());
  EXPECT_THAT(idle.TakeExpired(ended + kTimeout), ElementsAre(3u));
}

TEST(IdleSessionsTest, RepeatedReportsDoNotMoveTheDeadline) {
  IdleSessions idle(kTimeout);
  idle.Track(4, kStart);
  // Already idle: a second "no subscription" keeps the first deadline.
  idle.SetSubscribed(4, false, kStart + absl::Seconds(30));
  EXPECT_EQ(idle.NextDeadline(), kStart + kTimeout);
  idle.SetSubscribed(4, true, kStart + absl::Seconds(31));
  idle.SetSubscribed(4, true, kStart + absl::Seconds(32));
  EXPECT_EQ(idle.idle(), 0u);
  // Untracked ids are ignored.
  idle.SetSubscribed(99, false, kStart);
  EXPECT_EQ(idle.tracked(), 1u);
  EXPECT_EQ(idle.NextDeadline(), std::nullopt);
}

TEST(IdleSessionsTest, ForgottenSessionsDoNotExpire) {
  IdleSessions idle(kTimeout);
  idle.Track(5, kStart);
  idle.Track(6, kStart);
  idle.Forget(5);
  idle.Forget(42);  // unknown: nothing happens
  EXPECT_THAT(idle.TakeExpired(kStart + kTimeout), ElementsAre(6u));
  EXPECT_EQ(idle.tracked(), 0u);
}

TEST(IdleSessionsTest, ExpiredComeOldestFirst) {
  IdleSessions idle(kTimeout);
  idle.Track(30, kStart + absl::Seconds(3));
  idle.Track(10, kStart + absl::Seconds(1));
  idle.Track(20, kStart + absl::Seconds(2));
  EXPECT_THAT(idle.TakeExpired(kStart + absl::Hours(1)), ElementsAre(10u, 20u, 30u));
}

}  // namespace
}  // namespace moq_stats::bridge
