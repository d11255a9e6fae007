#include "common/json/snapshot_decoder.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/json/parse.h"
#include "common/json/serialize.h"
#include "common/json/snapshot_encoder.h"
#include "gtest/gtest.h"
#include "tests/common/json/test_tools/stats_values.h"

namespace moq_stats::json {
namespace {

Value J(std::string_view text) {
  absl::StatusOr<Value> value = Parse(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *std::move(value) : Value();
}

SnapshotDecoderOptions DecoderOptions(bool compression) {
  SnapshotDecoderOptions options;
  options.compression = compression;
  return options;
}

// A track as a subscriber sees it: groups of frames, and the value each
// frame leaves behind.
struct Track {
  struct Frame {
    std::string payload;
    Value value;  // the value encoded into it
  };
  std::vector<std::vector<Frame>> groups;
};

Track EncodeStats(const SnapshotEncoderOptions& options, int ticks) {
  SnapshotEncoder encoder(options);
  test::StatsValues stats(/*seed=*/11, /*paths=*/30);
  Track track;
  for (int tick = 0; tick < ticks; ++tick) {
    Value value = stats.Next(test::StatsValues::Scheduled(tick));
    absl::StatusOr<std::optional<EncodedFrame>> frame = encoder.Encode(value);
    EXPECT_TRUE(frame.ok()) << frame.status();
    if (!frame.ok() || !frame->has_value()) continue;
    if ((*frame)->snapshot) track.groups.emplace_back();
    EXPECT_FALSE(track.groups.empty());
    track.groups.back().push_back({std::move((*frame)->payload), std::move(value)});
  }
  return track;
}

// Feeds every frame of groups[first...] and checks the value after each.
void ExpectDecodes(const Track& track, size_t first, bool compression) {
  SnapshotDecoder decoder(DecoderOptions(compression));
  for (size_t g = first; g < track.groups.size(); ++g) {
    for (size_t f = 0; f < track.groups[g].size(); ++f) {
      const Track::Frame& frame = track.groups[g][f];
      const absl::Status status = f == 0 ? decoder.Snapshot(frame.payload) : decoder.Delta(frame.payload);
      ASSERT_TRUE(status.ok()) << "group " << g << " frame " << f << ": " << status;
      ASSERT_TRUE(decoder.value().has_value());
      ASSERT_EQ(*decoder.value(), frame.value) << "group " << g << " frame " << f;
    }
  }
}

TEST(SnapshotDecoderTest, FollowsACompressedTrackAcrossGroups) {
  SnapshotEncoderOptions options;
  options.compression = true;
  const Track track = EncodeStats(options, 800);
  ASSERT_GT(track.groups.size(), 4u);
  bool full_group = false;  // one ended by the frame cap
  for (const auto& group : track.groups) full_group |= group.size() == 256;
  EXPECT_TRUE(full_group);
  ExpectDecodes(track, 0, /*compression=*/true);
}

TEST(SnapshotDecoderTest, FollowsAPlainTrackAcrossGroups) {
  SnapshotEncoderOptions options;
  options.compression = false;
  ExpectDecodes(EncodeStats(options, 300), 0, /*compression=*/false);
  options.delta_ratio = 0;  // the plain .json tracks: one frame per group
  const Track single = EncodeStats(options, 100);
  for (const auto& group : single.groups) EXPECT_EQ(group.size(), 1u);
  ExpectDecodes(single, 0, /*compression=*/false);
}

TEST(SnapshotDecoderTest, ALateJoinerNeedsOnlyTheLatestGroup) {
  SnapshotEncoderOptions options;
  options.compression = true;
  const Track track = EncodeStats(options, 400);
  ASSERT_GT(track.groups.size(), 2u);
  // Starting at any group works, the last one included.
  for (size_t first = 1; first < track.groups.size(); ++first) ExpectDecodes(track, first, /*compression=*/true);
  // Starting in the middle of a group does not.
  for (const auto& group : track.groups) {
    if (group.size() < 2) continue;
    SnapshotDecoder decoder(DecoderOptions(true));
    EXPECT_FALSE(decoder.Snapshot(group[1].payload).ok() && *decoder.value() == group[1].value);
    break;
  }
}

TEST(SnapshotDecoderTest, DecodesTheWorkedSessionsGroup) {
  const struct {
    const char* hex;
    const char* value;
  } kFrames[] = {
      {"aa564a4cce4d55b2aa562a4e2d2ececccf2b56b232d48173e29373f28b535394ac0c6a6b0100",
       R"({"acme":{"sessions":1,"sessions_closed":0}})"},
      {"aac6a2d4a8b61600", R"({"acme":{"sessions":2,"sessions_closed":0}})"},
      {"aa564acfc94f4aad20ca0c0000",
       R"({"acme":{"sessions":2,"sessions_closed":0},"globex":{"sessions":1,"sessions_closed":0}})"},
      {"829991579a93530b00", R"({"globex":{"sessions":1,"sessions_closed":0}})"},
  };
  SnapshotDecoder decoder(DecoderOptions(true));
  bool first = true;
  for (const auto& frame : kFrames) {
    const std::string bytes = absl::HexStringToBytes(frame.hex);
    ASSERT_TRUE((first ? decoder.Snapshot(bytes) : decoder.Delta(bytes)).ok()) << frame.hex;
    first = false;
    EXPECT_EQ(*decoder.value(), J(frame.value));
  }
  EXPECT_EQ(Serialize(*decoder.value()), R"({"globex":{"sessions":1,"sessions_closed":0}})");
}

TEST(SnapshotDecoderTest, PlainFrames) {
  SnapshotDecoder decoder;
  EXPECT_FALSE(decoder.value().has_value());
  ASSERT_TRUE(decoder.Snapshot(R"({"a":{"x":1,"y":2},"b":[1]})").ok());
  ASSERT_TRUE(decoder.Delta(R"({"a":{"y":3},"b":null,"c":true})").ok());
  EXPECT_EQ(*decoder.value(), J(R"({"a":{"x":1,"y":3},"c":true})"));
  // A snapshot replaces everything.
  ASSERT_TRUE(decoder.Snapshot(R"({"z":0})").ok());
  EXPECT_EQ(*decoder.value(), J(R"({"z":0})"));
  // A patch that is not an object replaces the value (RFC 7396).
  ASSERT_TRUE(decoder.Delta("[1,2]").ok());
  EXPECT_EQ(*decoder.value(), J("[1,2]"));
}

TEST(SnapshotDecoderTest, ADeltaBeforeAnySnapshotIsRefused) {
  SnapshotDecoder decoder;
  const absl::Status status = decoder.Delta(R"({"a":1})");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "snapshot decoder: delta before snapshot");
  EXPECT_FALSE(decoder.value().has_value());
}

TEST(SnapshotDecoderTest, ABadSnapshotKeepsTheValueAndRefusesItsDeltas) {
  SnapshotDecoder decoder(DecoderOptions(true));
  ASSERT_TRUE(decoder.Snapshot(absl::HexStringToBytes("aaae0500")).ok());  // {}
  EXPECT_EQ(decoder.Snapshot("\xff\x00\x12").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*decoder.value(), J("{}"));
  EXPECT_EQ(decoder.Delta(absl::HexStringToBytes("aaae0500")).code(), absl::StatusCode::kFailedPrecondition);
  // The next group recovers.
  ASSERT_TRUE(decoder
                  .Snapshot(absl::HexStringToBytes(
                      "aa564a4cce4d55b2aa562a4e2d2ececccf2b56b232d48173e29373f28b535394ac0c6a6b0100"))
                  .ok());
  ASSERT_TRUE(decoder.Delta(absl::HexStringToBytes("aac6a2d4a8b61600")).ok());
  EXPECT_EQ(*decoder.value(), J(R"({"acme":{"sessions":2,"sessions_closed":0}})"));
}

TEST(SnapshotDecoderTest, ABadDeltaKeepsTheValueAndRefusesTheRestOfItsGroup) {
  SnapshotDecoder decoder;
  ASSERT_TRUE(decoder.Snapshot(R"({"a":1})").ok());
  const absl::Status status = decoder.Delta(R"({"a":)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*decoder.value(), J(R"({"a":1})"));
  EXPECT_EQ(decoder.Delta(R"({"a":2})").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(decoder.Snapshot(R"({"a":3})").ok());
  ASSERT_TRUE(decoder.Delta(R"({"a":4})").ok());
  EXPECT_EQ(*decoder.value(), J(R"({"a":4})"));
}

TEST(SnapshotDecoderTest, CompressedFramesInAPlainDecoderAreBadBytes) {
  SnapshotDecoder plain;
  EXPECT_EQ(plain.Snapshot(absl::HexStringToBytes("aaae0500")).code(), absl::StatusCode::kInvalidArgument);
  SnapshotDecoder compressed(DecoderOptions(true));
  EXPECT_EQ(compressed.Snapshot("{}").code(), absl::StatusCode::kInvalidArgument);
}

TEST(SnapshotDecoderTest, LimitsApply) {
  SnapshotDecoderOptions options;
  options.parse.max_depth = 2;
  SnapshotDecoder shallow(options);
  EXPECT_TRUE(shallow.Snapshot(R"({"a":{}})").ok());
  EXPECT_EQ(shallow.Snapshot(R"({"a":{"b":{}}})").code(), absl::StatusCode::kInvalidArgument);

  SnapshotEncoderOptions encoder_options;
  encoder_options.compression = true;
  SnapshotEncoder encoder(encoder_options);
  const std::string big(5000, 'x');
  absl::StatusOr<std::optional<EncodedFrame>> frame = encoder.Encode(Value(big));
  ASSERT_TRUE(frame.ok() && frame->has_value());
  SnapshotDecoderOptions small;
  small.compression = true;
  small.max_frame_size = 1000;
  SnapshotDecoder capped(small);
  EXPECT_EQ(capped.Snapshot((*frame)->payload).code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace moq_stats::json
