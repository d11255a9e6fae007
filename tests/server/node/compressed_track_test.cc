// The compressed `.json.z` sibling of a node-format track: decoding every
// frame it writes with SnapshotDecoder gives back exactly the values it was
// given, across group boundaries; a decoder that starts at the latest group
// alone rebuilds the current value; and a frame the track refuses makes the
// next value a snapshot.

#include "server/node/compressed_track.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json/parse.h"
#include "common/json/serialize.h"
#include "common/json/snapshot_decoder.h"
#include "gtest/gtest.h"
#include "origin/origin.h"

namespace moq_stats::server {
namespace {

// A value shaped like a node-format traffic frame: `paths` entries whose
// byte counters move with `tick` (only every `stride`-th path changes).
json::Value TrafficValue(int paths, int tick, int stride) {
  std::string text = "{";
  for (int p = 0; p < paths; ++p) {
    const int bytes = p % stride == 0 ? 1000 * tick + p : p;
    absl::StrAppend(&text, p == 0 ? "" : ",", "\"acme/room", p, "\":{\"subscriptions\":", 1 + p % 3,
                    ",\"subscriptions_closed\":0,\"bytes\":", bytes, ",\"frames\":", bytes / 10, "}");
  }
  text += "}";
  absl::StatusOr<json::Value> value = json::Parse(text);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : json::Value();
}

// Feeds every frame waiting on `consumer` to `decoder` by its place in its
// group; returns the frames read.
size_t Decode(TrackConsumer& consumer, json::SnapshotDecoder& decoder) {
  size_t read = 0;
  while (std::optional<Group> frame = consumer.Next()) {
    const absl::Status status = frame->index == 0 ? decoder.Snapshot(*frame->frame) : decoder.Delta(*frame->frame);
    EXPECT_TRUE(status.ok()) << status << " at group " << frame->sequence << " frame " << frame->index;
    ++read;
  }
  return read;
}

json::SnapshotDecoderOptions Compressed() {
  json::SnapshotDecoderOptions options;
  options.compression = true;
  return options;
}

struct Fixture {
  Fixture() {
    broadcast = *origin.Publish(Path("stats/node"), {"publisher.json.z"});
    producer = broadcast->track("publisher.json.z");
    consumer = *origin.Subscribe(Path("stats/node"), "publisher.json.z");
  }
  Origin origin;
  std::unique_ptr<BroadcastProducer> broadcast;
  TrackProducer* producer = nullptr;
  std::unique_ptr<TrackConsumer> consumer;
};

TEST(CompressedTrackTest, DecodesToEveryValueAcrossGroups) {
  Fixture f;
  CompressedTrack track(f.producer);
  json::SnapshotDecoder decoder(Compressed());
  constexpr int kTicks = 120;
  for (int tick = 0; tick < kTicks; ++tick) {
    const json::Value value = TrafficValue(20, tick, 4);
    absl::StatusOr<bool> written = track.Write(value);
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE(*written) << tick;
    ASSERT_EQ(Decode(*f.consumer, decoder), 1u) << tick;
    ASSERT_TRUE(decoder.value().has_value());
    ASSERT_EQ(*decoder.value(), value) << tick << ": " << json::Serialize(*decoder.value());
  }
  EXPECT_EQ(track.frames(), static_cast<uint64_t>(kTicks));
  // Deltas rode in groups, and the budget started new ones.
  EXPECT_GT(track.groups(), 2u);
  EXPECT_LT(track.groups(), track.frames() / 4);
}

TEST(CompressedTrackTest, UnchangedValueWritesNothing) {
  Fixture f;
  CompressedTrack track(f.producer);
  ASSERT_TRUE(*track.Write(TrafficValue(3, 1, 1)));
  EXPECT_FALSE(*track.Write(TrafficValue(3, 1, 1)));
  EXPECT_EQ(f.consumer->pending(), 1u);
  EXPECT_EQ(track.frames(), 1u);
}

TEST(CompressedTrackTest, LateDecoderRebuildsTheValueFromTheLatestGroup) {
  Fixture f;
  CompressedTrack track(f.producer);
  json::Value last;
  for (int tick = 0; tick < 60; ++tick) {
    last = TrafficValue(20, tick, 4);
    ASSERT_TRUE(track.Write(last).ok());
  }
  ASSERT_GT(f.producer->latest_group().size(), 1u) << "the test needs a latest group with deltas";
  ASSERT_GT(f.producer->latest()->sequence, 0u) << "the test needs more than one group";

  auto late = *f.origin.Subscribe(Path("stats/node"), "publisher.json.z");
  json::SnapshotDecoder decoder(Compressed());
  EXPECT_EQ(Decode(*late, decoder), f.producer->latest_group().size());
  ASSERT_TRUE(decoder.value().has_value());
  EXPECT_EQ(*decoder.value(), last);
}

TEST(CompressedTrackTest, FrameTheTrackRefusesMakesTheNextValueASnapshot) {
  Fixture f;
  CompressedTrack track(f.producer);
  ASSERT_TRUE(*track.Write(TrafficValue(5, 0, 1)));
  // Something else completes the open group: the delta has nowhere to go.
  f.producer->WriteFrame("{}");
  absl::StatusOr<bool> refused = track.Write(TrafficValue(5, 1, 1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  // The next value, even unchanged, opens a new group with a snapshot.
  ASSERT_TRUE(*track.Write(TrafficValue(5, 1, 1)));
  std::optional<Group> latest = f.producer->latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->index, 0u);
  EXPECT_EQ(latest->sequence, 2u);
  json::SnapshotDecoder decoder(Compressed());
  ASSERT_TRUE(decoder.Snapshot(*latest->frame).ok());
  EXPECT_EQ(*decoder.value(), TrafficValue(5, 1, 1));
}

}  // namespace
}  // namespace moq_stats::server
