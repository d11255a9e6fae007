// The node publisher writes every track's compressed `.json.z` sibling on
// the same tick as the plain track, with the same value: decoded with
// SnapshotDecoder, each `.z` frame equals the plain frame written with it,
// for the default tier's tracks and a named tier's.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json/parse.h"
#include "common/json/serialize.h"
#include "common/json/snapshot_decoder.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/node/node_publisher.h"
#include "server/stats/stats.h"
#include "tests/server/node/test_tools/node_publisher_fixture.h"

namespace moq_stats::server {
namespace {

constexpr char kBroadcast[] = ".stats/node/sjc";

// A plain track and its compressed sibling, read side by side.
struct TrackPair {
  std::unique_ptr<TrackConsumer> plain;
  std::unique_ptr<TrackConsumer> compressed;
  json::SnapshotDecoder decoder{[] {
    json::SnapshotDecoderOptions options;
    options.compression = true;
    return options;
  }()};

  // Reads what both got since the last call: the plain frames must each be
  // matched by one `.z` frame that decodes to the same value.
  void Check(const std::string& what) {
    std::vector<std::string> plain_frames;
    while (std::optional<Group> g = plain->Next()) plain_frames.push_back(*g->frame);
    size_t compressed_frames = 0;
    while (std::optional<Group> g = compressed->Next()) {
      ASSERT_LT(compressed_frames, plain_frames.size()) << what << ": a .z frame without a plain one";
      const absl::Status status = g->index == 0 ? decoder.Snapshot(*g->frame) : decoder.Delta(*g->frame);
      ASSERT_TRUE(status.ok()) << what << ": " << status;
      absl::StatusOr<json::Value> expected = json::Parse(plain_frames[compressed_frames]);
      ASSERT_TRUE(expected.ok()) << expected.status();
      ASSERT_EQ(*decoder.value(), *expected) << what << ": " << json::Serialize(*decoder.value());
      ++compressed_frames;
    }
    EXPECT_EQ(compressed_frames, plain_frames.size()) << what;
  }
};

class NodePublisherCompressedTest : public test::NodePublisherFixture {
 protected:
  void SetUp() override { Start(0); }

  std::unique_ptr<TrackPair> Pair(const std::string& name) {
    auto pair = std::make_unique<TrackPair>();
    auto plain = origin_.Subscribe(Path(kBroadcast), name);
    auto compressed = origin_.Subscribe(Path(kBroadcast), name + ".z");
    EXPECT_TRUE(plain.ok() && compressed.ok()) << name;
    if (!plain.ok() || !compressed.ok()) return nullptr;
    pair->plain = *std::move(plain);
    pair->compressed = *std::move(compressed);
    return pair;
  }
};

TEST_F(NodePublisherCompressedTest, EveryTrackHasACompressedSiblingWithTheSameValues) {
  auto publisher = Pair("publisher.json");
  auto subscriber = Pair("subscriber.json");
  auto sessions = Pair("sessions.json");
  ASSERT_TRUE(publisher && subscriber && sessions);
  time_.Advance(kInterval);
  publisher->Check("idle publisher.json");
  sessions->Check("idle sessions.json");

  BroadcastStats external = stats_.tier(Tier::kExternal).broadcast("acme/cam");
  BroadcastStats internal = stats_.tier(Tier::kInternal).broadcast("acme/cam");
  PublisherStats viewer = external.publisher();
  PublisherTrack video = viewer.track("video");
  SubscriberTrack peer = internal.subscriber_track("video");
  time_.Advance(kInterval);
  auto internal_subscriber = Pair("internal/subscriber.json");
  ASSERT_NE(internal_subscriber, nullptr);
  // Enough ticks that the .z tracks cross group boundaries.
  for (int tick = 0; tick < 200; ++tick) {
    video.bytes(1000 + tick);
    video.frame();
    peer.bytes(50);
    time_.Advance(kInterval);
    publisher->Check("publisher.json");
    internal_subscriber->Check("internal/subscriber.json");
    subscriber->Check("subscriber.json");
  }
  auto z = origin_.Subscribe(Path(kBroadcast), "publisher.json.z");
  ASSERT_TRUE(z.ok());
  std::optional<Group> first = (*z)->Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(first->sequence, 1u) << "the .z track stayed in its first groups";
}

}  // namespace
}  // namespace moq_stats::server
