// The node format's broadcasts over an in-memory origin and simulated time:
// paths, tracks per tier (named tiers too), sessions.json, frames only on
// change, the group lifecycle at a depth, and the level format switched off.

#include "server/node/node_publisher.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/stats/stats.h"
#include "tests/server/node/test_tools/node_publisher_fixture.h"

namespace moq_stats::server {
namespace {

class NodePublisherTest : public test::NodePublisherFixture {};

TEST_F(NodePublisherTest, DepthZeroIsOneBroadcastForTheSidecarsLife) {
  Start(0);
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"+.stats/node/sjc"});
  time_.Advance(kInterval);
  for (const char* name : {"publisher.json", "subscriber.json", "sessions.json"}) {
    auto track = Subscribe(".stats/node/sjc", name);
    ASSERT_NE(track, nullptr);
    EXPECT_EQ(Frames(*track), std::vector<std::string>{"{}"}) << name;
  }
  time_.Advance(10 * kInterval);
  EXPECT_TRUE(TakeAnnouncements().empty());
  publisher_->Stop();
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"-.stats/node/sjc"});
}

TEST_F(NodePublisherTest, WithoutANodeTheBroadcastEndsInNode) {
  Start(0, false, "");
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"+.stats/node"});
}

TEST_F(NodePublisherTest, TrafficOfEachTierGoesToItsTracksAndOnlyChangesWriteFrames) {
  Start(0);
  time_.Advance(kInterval);
  auto publisher = Subscribe(".stats/node/sjc", "publisher.json");
  auto subscriber = Subscribe(".stats/node/sjc", "subscriber.json");
  ASSERT_EQ(Frames(*publisher).size(), 1u);  // {}
  ASSERT_EQ(Frames(*subscriber).size(), 1u);

  BroadcastStats external = stats_.tier(Tier::kExternal).broadcast("acme/cam");
  BroadcastStats internal = stats_.tier(Tier::kInternal).broadcast("acme/cam");
  {
    PublisherStats viewer = external.publisher();
    PublisherTrack video = viewer.track("video");
    video.bytes(1000);
    video.frame();
    SubscriberTrack peer = internal.subscriber_track("video");
    peer.bytes(50);
    time_.Advance(kInterval);
    const std::vector<std::string> frames = Frames(*publisher);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0],
              "{\"acme/cam\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
              "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":1000,"
              "\"frames\":1,\"groups\":0,\"datagrams\":0}}");
    EXPECT_TRUE(Frames(*subscriber).empty());  // the external tier has no ingress
    auto internal_subscriber = Subscribe(".stats/node/sjc", "internal/subscriber.json");
    ASSERT_NE(internal_subscriber, nullptr);
    const std::vector<std::string> peer_frames = Frames(*internal_subscriber);
    ASSERT_EQ(peer_frames.size(), 1u);
    EXPECT_NE(peer_frames[0].find("\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":50"),
              std::string::npos)
        << peer_frames[0];
    // Nothing moves: nothing is written.
    time_.Advance(3 * kInterval);
    EXPECT_TRUE(Frames(*publisher).empty());
  }
  // The guards closed: the final counts once, then the path is dropped.
  time_.Advance(kInterval);
  std::vector<std::string> frames = Frames(*publisher);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].find("\"broadcasts\":1,\"broadcasts_closed\":1,\"subscriptions\":1,\"subscriptions_closed\":1"),
            std::string::npos)
      << frames[0];
  time_.Advance(kInterval);
  EXPECT_EQ(Frames(*publisher), std::vector<std::string>{"{}"});
}

TEST_F(NodePublisherTest, AGroupBroadcastLivesWhileItsGroupHasPaths) {
  Start(1);
  time_.Advance(kInterval);
  EXPECT_TRUE(TakeAnnouncements().empty());  // no depth-0 broadcast, no group yet
  {
    BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("acme/room/cam");
    PublisherTrack track = cam.publisher_track("video");
    track.bytes(7);
    time_.Advance(kInterval);
    EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"+.stats/acme/node/sjc"});
    auto frames = Subscribe(".stats/acme/node/sjc", "publisher.json");
    ASSERT_NE(frames, nullptr);
    const std::vector<std::string> got = Frames(*frames);
    ASSERT_EQ(got.size(), 1u);
    // Keys are the whole path, not relative to the group.
    EXPECT_EQ(got[0].rfind("{\"acme/room/cam\":", 0), 0u) << got[0];
  }
  // Released: the report holds its final counts once (the group stays for
  // that tick), and the next tick ends the group.
  time_.Advance(kInterval);
  EXPECT_TRUE(TakeAnnouncements().empty());
  time_.Advance(kInterval);
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"-.stats/acme/node/sjc"});
}

// The closing counts of a group stay announced one interval, like a level's
// final frame: the group ends on the tick after the one that wrote them.
TEST_F(NodePublisherTest, AGroupLingersOneIntervalAfterItsFinalCounts) {
  Start(1);
  std::unique_ptr<TrackConsumer> frames;
  {
    BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("acme/cam");
    PublisherTrack track = cam.publisher_track("video");
    track.bytes(7);
    time_.Advance(kInterval);
    TakeAnnouncements();
    frames = Subscribe(".stats/acme/node/sjc", "publisher.json");
    ASSERT_NE(frames, nullptr);
    ASSERT_EQ(Frames(*frames).size(), 1u);
  }
  time_.Advance(kInterval);
  const std::vector<std::string> last = Frames(*frames);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_NE(last[0].find("\"subscriptions\":1,\"subscriptions_closed\":1,\"fetches\":0,\"bytes\":7"), std::string::npos)
      << last[0];
  EXPECT_FALSE(frames->ended());
  EXPECT_TRUE(TakeAnnouncements().empty());

  time_.Advance(kInterval - absl::Milliseconds(1));
  EXPECT_FALSE(frames->ended()) << "the group ended before its interval ran out";
  time_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(Frames(*frames).empty());
  EXPECT_TRUE(frames->ended());
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"-.stats/acme/node/sjc"});
}

TEST_F(NodePublisherTest, AGroupLiveAgainDuringItsLingerCarriesOn) {
  Start(1);
  std::unique_ptr<TrackConsumer> frames;
  {
    BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("acme/cam");
    PublisherTrack track = cam.publisher_track("video");
    time_.Advance(kInterval);
    TakeAnnouncements();
    frames = Subscribe(".stats/acme/node/sjc", "publisher.json");
    ASSERT_NE(frames, nullptr);
    Frames(*frames);
  }
  time_.Advance(kInterval);  // the final counts
  ASSERT_EQ(Frames(*frames).size(), 1u);

  BroadcastStats other = stats_.tier(Tier::kExternal).broadcast("acme/mic");
  PublisherTrack track = other.publisher_track("audio");
  time_.Advance(3 * kInterval);
  EXPECT_TRUE(TakeAnnouncements().empty()) << "neither ended nor announced again";
  EXPECT_FALSE(frames->ended());
  const std::vector<std::string> got = Frames(*frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("{\"acme/mic\":", 0), 0u) << got[0];
}

// A group whose broadcast path is taken (here by the level format's
// broadcast of level "node": both are .stats/prefix/node/sjc) waits, and
// once the path is free it is announced with the counts reported while it
// waited, though they have not changed since.
TEST_F(NodePublisherTest, AGroupWhosePathIsTakenIsAnnouncedWithItsCountsOnceFree) {
  Start(1, /*publish_levels=*/true);
  std::unique_ptr<BroadcastStats> level =
      std::make_unique<BroadcastStats>(stats_.tier(Tier::kExternal).broadcast("node/x"));
  std::unique_ptr<PublisherTrack> level_track = std::make_unique<PublisherTrack>(level->publisher_track("video"));
  BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("prefix/cam");
  PublisherTrack track = cam.publisher_track("video");
  track.bytes(5);
  time_.Advance(3 * kInterval);
  std::vector<std::string> announced = TakeAnnouncements();
  ASSERT_EQ(std::count(announced.begin(), announced.end(), "+.stats/prefix/node/sjc"), 1);
  // The level stops; its broadcast ends one interval after its final frame.
  level_track.reset();
  level.reset();
  time_.Advance(4 * kInterval);
  announced = TakeAnnouncements();
  ASSERT_NE(std::find(announced.begin(), announced.end(), "-.stats/prefix/node/sjc"), announced.end());
  ASSERT_EQ(announced.back(), "+.stats/prefix/node/sjc");
  auto frames = Subscribe(".stats/prefix/node/sjc", "publisher.json");
  ASSERT_NE(frames, nullptr);
  const std::vector<std::string> got = Frames(*frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("{\"prefix/cam\":", 0), 0u) << got[0];
  EXPECT_NE(got[0].find("\"bytes\":5,"), std::string::npos) << got[0];
}

TEST_F(NodePublisherTest, WithTheLevelFormatOffNoLevelBroadcastStarts) {
  Start(0, /*publish_levels=*/false);
  TakeAnnouncements();
  BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("a/b");
  PublisherTrack track = cam.publisher_track("video");
  time_.Advance(2 * kInterval);
  EXPECT_TRUE(TakeAnnouncements().empty());
  EXPECT_EQ(stats_.running_publishers(), 0);
  // The levels are still counted.
  ASSERT_NE(stats_.level(Path("a")), nullptr);
  EXPECT_EQ(stats_.level(Path("a"))->snapshot(Tier::kExternal, Role::kPublisher).subscriptions, 1u);
}

TEST_F(NodePublisherTest, BothFormatsSideBySide) {
  Start(0, /*publish_levels=*/true);
  TakeAnnouncements();
  BroadcastStats cam = stats_.tier(Tier::kExternal).broadcast("a/b");
  PublisherTrack track = cam.publisher_track("video");
  time_.Advance(kInterval);
  const std::vector<std::string> announced = TakeAnnouncements();
  EXPECT_NE(std::find(announced.begin(), announced.end(), "+.stats/prefix/a/sjc"), announced.end());
  EXPECT_GT(stats_.running_publishers(), 0);
}

TEST_F(NodePublisherTest, ANamedTiersTracksAppearWithItsFirstPathAndStay) {
  Start(0);
  time_.Advance(kInterval);
  {
    BroadcastStats cam = stats_.tier("edge").broadcast("acme/cam");
    SubscriberTrack peer = cam.subscriber_track("video");
    peer.bytes(64);
    time_.Advance(kInterval);
    auto edge = Subscribe(".stats/node/sjc", "edge/subscriber.json");
    ASSERT_NE(edge, nullptr);
    EXPECT_EQ(Frames(*edge), std::vector<std::string>{
                                 "{\"acme/cam\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,"
                                 "\"broadcasts\":0,\"broadcasts_closed\":0,\"subscriptions\":1,"
                                 "\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":64,\"frames\":0,\"groups\":0,"
                                 "\"datagrams\":0}}"});
    // The default tier does not see it.
    auto plain = Subscribe(".stats/node/sjc", "subscriber.json");
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(Frames(*plain), std::vector<std::string>{"{}"});
  }
  // Closed: its final counts, then `{}` on a track that stays.
  time_.Advance(kInterval);
  auto edge = Subscribe(".stats/node/sjc", "edge/subscriber.json");
  ASSERT_NE(edge, nullptr);
  const std::vector<std::string> closing = Frames(*edge);
  ASSERT_EQ(closing.size(), 1u);
  EXPECT_NE(closing[0].find("\"subscriptions\":1,\"subscriptions_closed\":1"), std::string::npos) << closing[0];
  time_.Advance(kInterval);
  EXPECT_EQ(Frames(*edge), std::vector<std::string>{"{}"});
}

TEST_F(NodePublisherTest, SessionsJsonMapsEachAuthRootToItsPresencePerTier) {
  Start(0);
  time_.Advance(kInterval);
  auto sessions = Subscribe(".stats/node/sjc", "sessions.json");
  ASSERT_NE(sessions, nullptr);
  EXPECT_EQ(Frames(*sessions), std::vector<std::string>{"{}"});
  {
    std::shared_ptr<PresenceEntry> acme = stats_.presence()->Acquire("", "acme");
    std::shared_ptr<PresenceEntry> none = stats_.presence()->Acquire("", "");
    std::shared_ptr<PresenceEntry> edge = stats_.presence()->Acquire("edge", "acme");
    acme->Open(5);
    acme->Close(3);
    none->Open(2);
    none->Close(1);
    edge->Open(1);
    time_.Advance(kInterval);
    EXPECT_EQ(Frames(*sessions),
              std::vector<std::string>{
                  "{\"\":{\"sessions\":2,\"sessions_closed\":1},\"acme\":{\"sessions\":5,\"sessions_closed\":3}}"});
    auto edge_sessions = Subscribe(".stats/node/sjc", "edge/sessions.json");
    ASSERT_NE(edge_sessions, nullptr);
    EXPECT_EQ(Frames(*edge_sessions), std::vector<std::string>{"{\"acme\":{\"sessions\":1,\"sessions_closed\":0}}"});
    // Steady: nothing is written.
    time_.Advance(2 * kInterval);
    EXPECT_TRUE(Frames(*sessions).empty());
    acme->Close(2);
    none->Close(1);
  }
  // All closed and let go: the final counts once, then `{}`.
  time_.Advance(kInterval);
  EXPECT_EQ(Frames(*sessions),
            std::vector<std::string>{
                "{\"\":{\"sessions\":2,\"sessions_closed\":2},\"acme\":{\"sessions\":5,\"sessions_closed\":5}}"});
  time_.Advance(kInterval);
  EXPECT_EQ(Frames(*sessions), std::vector<std::string>{"{}"});
}

TEST_F(NodePublisherTest, AtADepthSessionsAreGroupedByAuthRoot) {
  Start(1);
  time_.Advance(kInterval);
  std::shared_ptr<PresenceEntry> acme = stats_.presence()->Acquire("", "acme/live");
  std::shared_ptr<PresenceEntry> none = stats_.presence()->Acquire("", "");
  acme->Open(1);
  none->Open(1);
  time_.Advance(kInterval);
  std::vector<std::string> announced = TakeAnnouncements();
  std::sort(announced.begin(), announced.end());
  EXPECT_EQ(announced, (std::vector<std::string>{"+.stats/acme/node/sjc", "+.stats/node/sjc"}));
  auto grouped = Subscribe(".stats/acme/node/sjc", "sessions.json");
  ASSERT_NE(grouped, nullptr);
  EXPECT_EQ(Frames(*grouped), std::vector<std::string>{"{\"acme/live\":{\"sessions\":1,\"sessions_closed\":0}}"});
  auto root = Subscribe(".stats/node/sjc", "sessions.json");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(Frames(*root), std::vector<std::string>{"{\"\":{\"sessions\":1,\"sessions_closed\":0}}"});
}

}  // namespace
}  // namespace moq_stats::server
