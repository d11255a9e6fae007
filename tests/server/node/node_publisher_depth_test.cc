// Golden frames of the node format at --stats-depth=2: one broadcast per
// group of paths sharing their first two segments
// (`<prefix>/<group>/node/<node>`), each group's publisher.json and
// subscriber.json holding only that group's paths (keyed by the whole
// path), a path shorter than the depth grouped under itself, and a group
// broadcast ending on the tick after its group's last path is released,
// while the other groups' broadcasts and frames go on unchanged.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/node/node_publisher.h"
#include "server/stats/stats.h"
#include "tests/server/node/test_tools/node_publisher_fixture.h"

namespace moq_stats::server {
namespace {

class NodePublisherDepthTest : public test::NodePublisherFixture {
 protected:
  void SetUp() override { Start(2); }
};

TEST_F(NodePublisherDepthTest, EachGroupOfTwoSegmentsHasItsOwnBroadcastAndFrames) {
  StatsHandle external = stats_.tier(Tier::kExternal);
  // Group acme/room1: a published camera and a subscribed microphone.
  PublisherStats cam = external.broadcast("acme/room1/cam").publisher();
  PublisherTrack video = cam.track("video");
  video.bytes(1000);
  video.frame();
  SubscriberStats mic = external.broadcast("acme/room1/mic").subscriber();
  SubscriberTrack audio = mic.track("audio");
  audio.bytes(20);
  audio.frame();
  audio.group();
  // Group acme/room2: one track, its broadcast counted elsewhere.
  auto screen = std::make_unique<PublisherTrack>(external.broadcast("acme/room2/screen").publisher_track("video"));
  screen->bytes(5);
  // A path of one segment is its own group.
  PublisherTrack solo = external.broadcast("solo").publisher_track("t");

  time_.Advance(kInterval);
  EXPECT_EQ(TakeAnnouncements(), (std::vector<std::string>{"+.stats/acme/room1/node/sjc", "+.stats/acme/room2/node/sjc",
                                                           "+.stats/solo/node/sjc"}));

  auto room1_publisher = Subscribe(".stats/acme/room1/node/sjc", "publisher.json");
  auto room1_subscriber = Subscribe(".stats/acme/room1/node/sjc", "subscriber.json");
  auto room2_publisher = Subscribe(".stats/acme/room2/node/sjc", "publisher.json");
  auto room2_subscriber = Subscribe(".stats/acme/room2/node/sjc", "subscriber.json");
  auto solo_publisher = Subscribe(".stats/solo/node/sjc", "publisher.json");
  ASSERT_TRUE(room1_publisher && room1_subscriber && room2_publisher && room2_subscriber && solo_publisher);
  EXPECT_EQ(Frames(*room1_publisher),
            std::vector<std::string>{
                "{\"acme/room1/cam\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
                "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":1000,"
                "\"frames\":1,\"groups\":0,\"datagrams\":0}}"});
  EXPECT_EQ(Frames(*room1_subscriber),
            std::vector<std::string>{
                "{\"acme/room1/mic\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
                "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":20,"
                "\"frames\":1,\"groups\":1,\"datagrams\":0}}"});
  EXPECT_EQ(Frames(*room2_publisher),
            std::vector<std::string>{
                "{\"acme/room2/screen\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":0,"
                "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":5,"
                "\"frames\":0,\"groups\":0,\"datagrams\":0}}"});
  // Nothing of room2 is ingress: its default-tier track holds {}.
  EXPECT_EQ(Frames(*room2_subscriber), std::vector<std::string>{"{}"});
  EXPECT_EQ(Frames(*solo_publisher),
            std::vector<std::string>{
                "{\"solo\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":0,"
                "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":0,"
                "\"frames\":0,\"groups\":0,\"datagrams\":0}}"});

  // room2's only path is released: its final counts once, then its
  // broadcast ends. room1, unchanged, writes nothing and stays announced.
  screen.reset();
  time_.Advance(kInterval);
  EXPECT_EQ(Frames(*room2_publisher),
            std::vector<std::string>{
                "{\"acme/room2/screen\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":0,"
                "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":1,\"fetches\":0,\"bytes\":5,"
                "\"frames\":0,\"groups\":0,\"datagrams\":0}}"});
  EXPECT_TRUE(TakeAnnouncements().empty());
  time_.Advance(kInterval);
  EXPECT_EQ(TakeAnnouncements(), std::vector<std::string>{"-.stats/acme/room2/node/sjc"});
  EXPECT_TRUE(Frames(*room1_publisher).empty());
  EXPECT_TRUE(Frames(*room1_subscriber).empty());
  EXPECT_EQ(publisher_->broadcasts(), 2u);

  // room1's camera moves on: only room1's publisher.json gets a frame.
  video.bytes(500);
  time_.Advance(kInterval);
  const std::vector<std::string> moved = Frames(*room1_publisher);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_NE(moved[0].find("\"bytes\":1500,\"frames\":1,"), std::string::npos) << moved[0];
  EXPECT_TRUE(Frames(*room1_subscriber).empty());
  EXPECT_TRUE(Frames(*solo_publisher).empty());
}

}  // namespace
}  // namespace moq_stats::server
