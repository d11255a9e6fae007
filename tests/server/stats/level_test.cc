// A level as plain data: its counters, activity and the two marks retention
// reads.

#include "server/stats/level.h"

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

TEST(LevelTest, ActiveWhileAnySubscriptionIsOpen) {
  Level level(Path("demo"), Path(".stats/prefix/demo/sjc"), 1'700'000'000'000);
  EXPECT_EQ(level.key().str(), "demo");
  EXPECT_EQ(level.advertised().str(), ".stats/prefix/demo/sjc");
  EXPECT_FALSE(level.any_active());
  level.counters(Tier::kInternal, Role::kSubscriber).OpenBroadcast();
  EXPECT_FALSE(level.any_active()) << "a broadcast alone is no subscription";
  level.counters(Tier::kInternal, Role::kSubscriber).OpenSubscription();
  EXPECT_TRUE(level.any_active());
  EXPECT_EQ(level.snapshot(Tier::kInternal, Role::kSubscriber).subscriptions, 1u);
  EXPECT_EQ(level.snapshot(Tier::kExternal, Role::kSubscriber).subscriptions, 0u);
  level.counters(Tier::kInternal, Role::kSubscriber).CloseSubscription();
  EXPECT_FALSE(level.any_active());
}

TEST(LevelTest, MarksSayWhatRetentionNeeds) {
  Level level(Path(), Path(".stats/prefix"), 1);
  EXPECT_EQ(level.handles(), 0);
  EXPECT_FALSE(level.publisher_running());
  level.AddHandle();
  level.AddHandle();
  EXPECT_EQ(level.handles(), 2);
  EXPECT_FALSE(level.ReleaseHandle());
  EXPECT_TRUE(level.ReleaseHandle()) << "the release that reaches zero says so";
  EXPECT_EQ(level.handles(), 0);
  level.set_publisher_running(true);
  EXPECT_TRUE(level.publisher_running());
  level.set_publisher_running(false);
  EXPECT_FALSE(level.publisher_running());
}

}  // namespace
}  // namespace moq_stats::server
