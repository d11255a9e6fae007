// The seed module's tests (moq_net stats.rs), under their own names, plus the
// one it leaves to inspection (idle frame skipping), driven end to end.

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/stats/stats.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::StatsFixture;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;
constexpr Role kSub = Role::kSubscriber;

TEST(StatsSeedTest, external_publisher_bumps_external_publisher_counters) {
  StatsFixture f(2);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("demo/bbb");
  {
    PublisherStats pub_role = bs.publisher();
    PublisherTrack track = pub_role.track("video");
    track.frame();
    track.bytes(100);
    track.group();
  }
  Counts root = f.Read("", kExt, kPub);
  EXPECT_EQ(root.frames, 1u);
  EXPECT_EQ(root.bytes, 100u);
  EXPECT_EQ(root.groups, 1u);
  EXPECT_EQ(root.subscriptions, 1u);
  EXPECT_EQ(root.subscriptions_closed, 1u);
  EXPECT_EQ(root.broadcasts, 1u);
  EXPECT_EQ(root.broadcasts_closed, 1u);
  // Other tier/role combos must remain untouched.
  EXPECT_EQ(f.Read("", kExt, kSub).bytes, 0u);
  EXPECT_EQ(f.Read("", kInt, kPub).bytes, 0u);
  EXPECT_EQ(f.Read("", kInt, kSub).bytes, 0u);
}

TEST(StatsSeedTest, external_subscriber_bumps_external_subscriber_counters) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("demo/bbb");
  SubscriberStats sub_role = bs.subscriber();
  SubscriberTrack track = sub_role.track("video");
  track.frame();
  track.bytes(50);

  Counts root = f.Read("", kExt, kSub);
  EXPECT_EQ(root.frames, 1u);
  EXPECT_EQ(root.bytes, 50u);
  EXPECT_EQ(root.broadcasts, 1u);
  EXPECT_EQ(root.subscriptions, 1u);
  EXPECT_EQ(f.Read("", kExt, kPub).bytes, 0u);
  EXPECT_EQ(f.Read("", kInt, kSub).bytes, 0u);
}

TEST(StatsSeedTest, external_and_internal_tiers_are_independent) {
  StatsFixture f(1);
  StatsHandle ext = f.stats().tier(kExt);
  StatsHandle in = f.stats().tier(kInt);
  PublisherStats ext_pub = ext.broadcast("demo/bbb").publisher();
  PublisherTrack ext_track = ext_pub.track("video");
  ext_track.bytes(100);
  SubscriberStats int_sub = in.broadcast("demo/bbb").subscriber();
  SubscriberTrack int_track = int_sub.track("audio");
  int_track.bytes(7);

  EXPECT_EQ(f.Read("", kExt, kPub).bytes, 100u);
  EXPECT_EQ(f.Read("", kExt, kSub).bytes, 0u);
  EXPECT_EQ(f.Read("", kInt, kPub).bytes, 0u);
  EXPECT_EQ(f.Read("", kInt, kSub).bytes, 7u);
}

TEST(StatsSeedTest, bumps_fanout_to_all_levels) {
  StatsFixture f(2);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("demo/bbb");
  PublisherStats p = bs.publisher();
  PublisherTrack track = p.track("video");
  track.bytes(100);

  EXPECT_EQ(f.Read("", kExt, kPub).bytes, 100u);
  EXPECT_EQ(f.Read("demo", kExt, kPub).bytes, 100u);
  EXPECT_EQ(f.Read("demo/bbb", kExt, kPub).bytes, 100u);
}

TEST(StatsSeedTest, paths_under_prefix_are_no_op) {
  // Our own stats broadcasts (and any sibling category under the same prefix)
  // must not feed back into the aggregator.
  StatsFixture f(2);
  BroadcastStats bs = f.stats().tier(kExt).broadcast(".stats/prefix/sjc");
  EXPECT_TRUE(bs.empty());
  {
    PublisherStats p = bs.publisher();
    PublisherTrack track = p.track("video");
    track.bytes(100);
    track.frame();
    track.group();
  }
  EXPECT_EQ(f.stats().level_count(), 0u);
  EXPECT_EQ(f.time().scheduler().pending(), 0u);
}

TEST(StatsSeedTest, publisher_track_does_not_bump_broadcasts) {
  // A track guard opened straight from the broadcast handle counts no
  // broadcast: its lifetime is counted by a guard held elsewhere.
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("demo/bbb");
  {
    PublisherTrack track = bs.publisher_track("video");
    track.bytes(10);
  }
  Counts root = f.Read("", kExt, kPub);
  EXPECT_EQ(root.broadcasts, 0u);
  EXPECT_EQ(root.broadcasts_closed, 0u);
  EXPECT_EQ(root.subscriptions, 1u);
  EXPECT_EQ(root.subscriptions_closed, 1u);
  EXPECT_EQ(root.bytes, 10u);
}

TEST(StatsSeedTest, disabled_stats_are_noop) {
  // A disabled aggregator must not allocate level state or spawn tasks.
  Stats stats = Stats::Disabled();
  BroadcastStats bs = stats.tier(kExt).broadcast("demo/bbb");
  EXPECT_TRUE(bs.empty());
  {
    PublisherStats p = bs.publisher();
    PublisherTrack track = p.track("video");
    track.bytes(100);
  }
  EXPECT_EQ(stats.level_count(), 0u);
  EXPECT_EQ(stats.running_publishers(), 0);
  EXPECT_FALSE(stats.enabled());
}

TEST(StatsSeedTest, task_spawns_on_first_subscribe_and_announces) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
  PublisherStats p = bs.publisher();
  PublisherTrack track = p.track("video");

  f.Advance(absl::Milliseconds(1));
  // levels=1 + "foo/bar": buckets "" and "foo".
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc"));
}

TEST(StatsSeedTest, task_spawns_with_node_suffix) {
  StatsFixture f(2);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
  PublisherStats p = bs.publisher();
  PublisherTrack track = p.track("video");

  f.Advance(absl::Milliseconds(1));
  EXPECT_THAT(f.TakeAnnouncements(),
              UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc", "+.stats/prefix/foo/bar/sjc"));
}

TEST(StatsSeedTest, task_spawns_without_node_suffix) {
  StatsFixture f(1, "");
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
  PublisherStats p = bs.publisher();
  PublisherTrack track = p.track("video");

  f.Advance(absl::Milliseconds(1));
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix", "+.stats/prefix/foo"));
}

TEST(StatsSeedTest, task_exits_when_all_roles_idle) {
  StatsFixture f(1);
  {
    BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
    PublisherStats p = bs.publisher();
    PublisherTrack track = p.track("video");

    f.Advance(absl::Milliseconds(1));
    EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/foo/sjc", "+.stats/prefix/sjc"));
  }
  f.Advance(absl::Seconds(2));
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("-.stats/prefix/foo/sjc", "-.stats/prefix/sjc"));
  EXPECT_EQ(f.stats().running_publishers(), 0);
}

TEST(StatsSeedTest, idle_frames_are_skipped) {
  // The seed leaves this to inspection: a tick writes a frame on a track
  // only when that (tier, role)'s snapshot changed since the last frame.
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
  PublisherStats p = bs.publisher();
  PublisherTrack track = p.track("video");
  f.Advance(absl::Milliseconds(1));

  auto pub = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  auto sub = f.Subscribe(".stats/prefix/foo/sjc", kExt, kSub);
  // The latest frame (the first tick's) is there for a new subscriber.
  EXPECT_EQ(StatsFixture::Frames(*pub).size(), 1u);
  EXPECT_EQ(StatsFixture::Frames(*sub).size(), 1u);

  // Nothing changes for three ticks: no frame on any track.
  f.Advance(absl::Seconds(3));
  EXPECT_TRUE(StatsFixture::Frames(*pub).empty());
  EXPECT_TRUE(StatsFixture::Frames(*sub).empty());

  // A bump: exactly one frame on the publisher track at the next tick, none
  // on the untouched subscriber track.
  track.bytes(5);
  f.Advance(absl::Seconds(1));
  std::vector<std::string> frames = StatsFixture::Frames(*pub);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].find(R"("bytes":5,)"), std::string::npos) << frames[0];
  EXPECT_TRUE(StatsFixture::Frames(*sub).empty());

  // Idle again.
  f.Advance(absl::Seconds(2));
  EXPECT_TRUE(StatsFixture::Frames(*pub).empty());
}

}  // namespace
}  // namespace moq_stats::server
