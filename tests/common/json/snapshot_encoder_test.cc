#include "common/json/snapshot_encoder.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/json/flate.h"
#include "common/json/merge_patch.h"
#include "common/json/parse.h"
#include "common/json/serialize.h"
#include "gtest/gtest.h"
#include "tests/common/json/test_tools/stats_values.h"

namespace moq_stats::json {
namespace {

Value J(std::string_view text) {
  absl::StatusOr<Value> value = Parse(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *std::move(value) : Value();
}

std::optional<EncodedFrame> MustEncode(SnapshotEncoder& encoder, Value value) {
  absl::StatusOr<std::optional<EncodedFrame>> frame = encoder.Encode(std::move(value));
  EXPECT_TRUE(frame.ok()) << frame.status();
  return frame.ok() ? *std::move(frame) : std::nullopt;
}

SnapshotEncoderOptions Plain(uint32_t delta_ratio = 8) {
  SnapshotEncoderOptions options;
  options.compression = false;
  options.delta_ratio = delta_ratio;
  return options;
}

SnapshotEncoderOptions Compressed() {
  SnapshotEncoderOptions options;
  options.compression = true;
  return options;
}

// Encodes `text` and expects a frame of the given kind and payload.
void ExpectFrame(SnapshotEncoder& encoder, std::string_view text, bool snapshot, std::string_view payload) {
  const std::optional<EncodedFrame> frame = MustEncode(encoder, J(text));
  ASSERT_TRUE(frame.has_value()) << text;
  EXPECT_EQ(frame->snapshot, snapshot) << text;
  EXPECT_EQ(frame->payload, payload) << text;
}

void ExpectNothing(SnapshotEncoder& encoder, std::string_view text) {
  EXPECT_FALSE(MustEncode(encoder, J(text)).has_value()) << text;
}

TEST(SnapshotEncoderTest, DefaultOptions) {
  const SnapshotEncoderOptions options;
  EXPECT_FALSE(options.compression);
  EXPECT_EQ(options.delta_ratio, 8u);
  EXPECT_EQ(options.max_group_frames, 256u);
}

TEST(SnapshotEncoderTest, TheFirstValueOpensAGroupThenChangesAreDeltas) {
  SnapshotEncoder encoder(Plain());
  EXPECT_EQ(encoder.value(), nullptr);
  ExpectFrame(encoder, R"({"zeta":{"n":1},"alpha":{"n":2}})", true, R"({"zeta":{"n":1},"alpha":{"n":2}})");
  ExpectFrame(encoder, R"({"zeta":{"n":1},"alpha":{"n":3}})", false, R"({"alpha":{"n":3}})");
  ExpectFrame(encoder, R"({"alpha":{"n":3}})", false, R"({"zeta":null})");
  EXPECT_EQ(encoder.group_frames(), 3u);
}

TEST(SnapshotEncoderTest, AnUnchangedValueWritesNothing) {
  SnapshotEncoder encoder(Plain());
  ExpectFrame(encoder, R"({"a":1,"b":[1,2]})", true, R"({"a":1,"b":[1,2]})");
  ExpectNothing(encoder, R"({"a":1,"b":[1,2]})");
  ExpectNothing(encoder, R"({"b":[1,2],"a":1.0})");  // order and number form are not changes
  EXPECT_EQ(encoder.group_frames(), 1u);
}

TEST(SnapshotEncoderTest, TheFirstValueIsWrittenEvenWhenEmpty) {
  SnapshotEncoder encoder(Compressed());
  const std::optional<EncodedFrame> frame = MustEncode(encoder, Value(Object()));
  ASSERT_TRUE(frame.has_value());
  EXPECT_TRUE(frame->snapshot);
  EXPECT_EQ(absl::BytesToHexString(frame->payload), "aaae0500");
  ExpectNothing(encoder, "{}");
}

// The notes' worked group (§2.2): a sessions track's snapshot and three
// deltas, compressed into one stream, byte for byte as @moq/json wrote it.
TEST(SnapshotEncoderTest, TheWorkedSessionsGroupByteForByte) {
  SnapshotEncoder encoder(Compressed());
  const struct {
    const char* value;
    bool snapshot;
    const char* hex;
  } kSteps[] = {
      {R"({"acme":{"sessions":1,"sessions_closed":0}})", true,
       "aa564a4cce4d55b2aa562a4e2d2ececccf2b56b232d48173e29373f28b535394ac0c6a6b0100"},
      {R"({"acme":{"sessions":2,"sessions_closed":0}})", false, "aac6a2d4a8b61600"},
      {R"({"acme":{"sessions":2,"sessions_closed":0},"globex":{"sessions":1,"sessions_closed":0}})", false,
       "aa564acfc94f4aad20ca0c0000"},
      {R"({"globex":{"sessions":1,"sessions_closed":0}})", false, "829991579a93530b00"},
  };
  for (const auto& step : kSteps) {
    const std::optional<EncodedFrame> frame = MustEncode(encoder, J(step.value));
    ASSERT_TRUE(frame.has_value()) << step.value;
    EXPECT_EQ(frame->snapshot, step.snapshot) << step.value;
    EXPECT_EQ(absl::BytesToHexString(frame->payload), step.hex) << step.value;
  }
  EXPECT_EQ(encoder.snapshot_bytes(), 38u);
  EXPECT_EQ(encoder.delta_bytes(), 8u + 13u + 9u);
}

// Ratio 1: deltas go on while the deltas already in the group add up to at
// most the snapshot's size, so the one that crosses it still lands.
TEST(SnapshotEncoderTest, TheDeltaBudgetCountsWireBytesOfTheDeltasBefore) {
  SnapshotEncoder encoder(Plain(/*delta_ratio=*/1));
  const std::string snapshot = R"({"n":0,"pad":"abcde"})";
  ASSERT_EQ(snapshot.size(), 21u);
  ExpectFrame(encoder, snapshot, true, snapshot);
  // Each delta is {"n":k}, 7 bytes: before the 4th, 21 <= 21 bytes.
  for (int n = 1; n <= 4; ++n) {
    const std::string value = R"({"n":)" + std::to_string(n) + R"(,"pad":"abcde"})";
    ExpectFrame(encoder, value, false, R"({"n":)" + std::to_string(n) + "}");
    EXPECT_EQ(encoder.delta_bytes(), 7u * n);
  }
  // 28 > 21: the next change opens a new group.
  ExpectFrame(encoder, R"({"n":5,"pad":"abcde"})", true, R"({"n":5,"pad":"abcde"})");
  EXPECT_EQ(encoder.group_frames(), 1u);
  EXPECT_EQ(encoder.delta_bytes(), 0u);
  EXPECT_EQ(encoder.snapshot_bytes(), 21u);
}

TEST(SnapshotEncoderTest, CompressedBudgetIsInCompressedBytes) {
  // A stats track that starts idle: the 4-byte {} allows 32 bytes of deltas,
  // so the first real change rides as a delta whatever its size and the
  // next one opens a group.
  SnapshotEncoder encoder(Compressed());
  ASSERT_TRUE(MustEncode(encoder, Value(Object()))->snapshot);
  ASSERT_EQ(encoder.snapshot_bytes(), 4u);
  test::StatsValues stats(/*seed=*/3, /*paths=*/10);
  const std::optional<EncodedFrame> first = MustEncode(encoder, stats.Current());
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->snapshot);
  EXPECT_GT(first->payload.size(), 32u);
  EXPECT_EQ(encoder.delta_bytes(), first->payload.size());
  EXPECT_TRUE(MustEncode(encoder, stats.Next(test::StatsValues::Tick::kQuiet))->snapshot);

  // Over a long run, each group ends exactly when the rule says, by its
  // budget or by its frame cap.
  uint64_t snapshot_bytes = encoder.snapshot_bytes();
  uint64_t delta_bytes = encoder.delta_bytes();
  size_t frames = encoder.group_frames();
  int ended_by_budget = 0;
  int ended_by_cap = 0;
  for (int tick = 0; tick < 800; ++tick) {
    const std::optional<EncodedFrame> frame = MustEncode(encoder, stats.Next(test::StatsValues::Scheduled(tick)));
    if (!frame.has_value()) continue;
    const bool room = frames >= 1 && frames < 256 && delta_bytes <= 8 * snapshot_bytes;
    ASSERT_EQ(frame->snapshot, !room) << "tick " << tick;
    if (frame->snapshot) {
      ++(frames == 256 ? ended_by_cap : ended_by_budget);
      snapshot_bytes = frame->payload.size();
      delta_bytes = 0;
      frames = 1;
    } else {
      delta_bytes += frame->payload.size();
      ++frames;
    }
    ASSERT_EQ(encoder.snapshot_bytes(), snapshot_bytes);
    ASSERT_EQ(encoder.delta_bytes(), delta_bytes);
    ASSERT_EQ(encoder.group_frames(), frames);
  }
  EXPECT_GE(ended_by_budget, 2);
  EXPECT_GE(ended_by_cap, 1);
}

TEST(SnapshotEncoderTest, AGroupHoldsAtMost256Frames) {
  SnapshotEncoder encoder(Plain(/*delta_ratio=*/1000000));
  std::vector<bool> snapshots;
  for (int n = 0; n < 600; ++n) {
    const std::optional<EncodedFrame> frame = MustEncode(encoder, J(R"({"n":)" + std::to_string(n) + "}"));
    ASSERT_TRUE(frame.has_value());
    snapshots.push_back(frame->snapshot);
  }
  for (int n = 0; n < 600; ++n) EXPECT_EQ(snapshots[n], n % 256 == 0) << n;
}

TEST(SnapshotEncoderTest, TheFrameCapIsAnOption) {
  SnapshotEncoderOptions options = Plain();
  options.max_group_frames = 2;
  SnapshotEncoder encoder(options);
  ExpectFrame(encoder, R"({"n":0})", true, R"({"n":0})");
  ExpectFrame(encoder, R"({"n":1})", false, R"({"n":1})");
  ExpectFrame(encoder, R"({"n":2})", true, R"({"n":2})");
}

TEST(SnapshotEncoderTest, RatioZeroMakesEveryChangeAGroup) {
  SnapshotEncoder encoder(Plain(/*delta_ratio=*/0));
  ExpectFrame(encoder, R"({"a":1})", true, R"({"a":1})");
  ExpectNothing(encoder, R"({"a":1})");
  ExpectFrame(encoder, R"({"a":2})", true, R"({"a":2})");
  ExpectFrame(encoder, R"({})", true, R"({})");
}

TEST(SnapshotEncoderTest, ANullTheDeltaCannotCarryForcesASnapshot) {
  SnapshotEncoder encoder(Plain());
  ExpectFrame(encoder, R"({"a":1,"b":2})", true, R"({"a":1,"b":2})");
  ExpectFrame(encoder, R"({"a":null,"b":2})", true, R"({"a":null,"b":2})");
  // The null stays; the next change is a delta again.
  ExpectFrame(encoder, R"({"a":null,"b":3})", false, R"({"b":3})");
  ExpectFrame(encoder, R"({"b":3})", false, R"({"a":null})");
}

TEST(SnapshotEncoderTest, ARootThatIsNotAnObjectIsAlwaysASnapshot) {
  SnapshotEncoder encoder(Plain());
  ExpectFrame(encoder, "[1,2]", true, "[1,2]");
  ExpectNothing(encoder, "[1,2]");
  ExpectFrame(encoder, "[1,2,3]", true, "[1,2,3]");
  ExpectFrame(encoder, R"({"a":1})", true, R"({"a":1})");
  ExpectFrame(encoder, "7", true, "7");
}

TEST(SnapshotEncoderTest, ResyncNextMakesTheNextValueASnapshotEvenUnchanged) {
  SnapshotEncoder encoder(Compressed());
  const std::string value = R"({"acme":{"sessions":1,"sessions_closed":0}})";
  const std::optional<EncodedFrame> first = MustEncode(encoder, J(value));
  ASSERT_TRUE(first.has_value());
  MustEncode(encoder, J(R"({"acme":{"sessions":2,"sessions_closed":0}})"));
  encoder.ResyncNext();
  encoder.ResyncNext();  // once is enough; twice is the same
  const std::optional<EncodedFrame> resent = MustEncode(encoder, J(R"({"acme":{"sessions":2,"sessions_closed":0}})"));
  ASSERT_TRUE(resent.has_value());
  EXPECT_TRUE(resent->snapshot);
  // A cold stream: a fresh decoder reads it.
  FlateDecoder decoder;
  EXPECT_EQ(decoder.Frame(resent->payload).value_or("?"), R"({"acme":{"sessions":2,"sessions_closed":0}})");
  ExpectNothing(encoder, R"({"acme":{"sessions":2,"sessions_closed":0}})");
  EXPECT_EQ(encoder.group_frames(), 1u);
}

TEST(SnapshotEncoderTest, TheBaselineIsTheOldValueWithThePatchApplied) {
  SnapshotEncoder encoder(Plain());
  ExpectFrame(encoder, R"({"b":1,"a":1,"c":1})", true, R"({"b":1,"a":1,"c":1})");
  ExpectFrame(encoder, R"({"a":2,"b":1,"d":4})", false, R"({"a":2,"d":4,"c":null})");
  ASSERT_NE(encoder.value(), nullptr);
  // The kept value's order: the old members in place, new ones appended.
  EXPECT_EQ(Serialize(*encoder.value()), R"({"b":1,"a":2,"d":4})");
  // A snapshot keeps the value as given.
  encoder.ResyncNext();
  ExpectFrame(encoder, R"({"d":4,"a":2,"b":1})", true, R"({"d":4,"a":2,"b":1})");
  EXPECT_EQ(Serialize(*encoder.value()), R"({"d":4,"a":2,"b":1})");
}

TEST(SnapshotEncoderTest, ACallerMayKeepOneValueAndChangeItInPlace) {
  SnapshotEncoder encoder(Plain());
  Value stats = J(R"({"acme":{"bytes":10,"frames":1},"zeta":{"bytes":0,"frames":0}})");
  const std::optional<EncodedFrame> snapshot = encoder.Encode(stats).value_or(std::nullopt);
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_TRUE(snapshot->snapshot);
  // The encoder kept a copy: changing the caller's value is a change.
  *stats.as_object().Find("acme")->as_object().Find("bytes") = Value(25);
  EXPECT_EQ(*encoder.value(), J(R"({"acme":{"bytes":10,"frames":1},"zeta":{"bytes":0,"frames":0}})"));
  const std::optional<EncodedFrame> delta = encoder.Encode(stats).value_or(std::nullopt);
  ASSERT_TRUE(delta.has_value());
  EXPECT_FALSE(delta->snapshot);
  EXPECT_EQ(delta->payload, R"({"acme":{"bytes":25}})");
  EXPECT_EQ(*encoder.value(), stats);
  EXPECT_EQ(Serialize(stats), R"({"acme":{"bytes":25,"frames":1},"zeta":{"bytes":0,"frames":0}})");
  EXPECT_FALSE(encoder.Encode(stats).value_or(std::nullopt).has_value());
}

TEST(SnapshotEncoderTest, CompressedDeltasContinueTheSnapshotsStream) {
  SnapshotEncoder encoder(Compressed());
  FlateDecoder decoder;
  const std::optional<EncodedFrame> snapshot = MustEncode(encoder, J(R"({"room":{"viewers":10,"tracks":2}})"));
  const std::optional<EncodedFrame> delta = MustEncode(encoder, J(R"({"room":{"viewers":11,"tracks":2}})"));
  ASSERT_TRUE(snapshot && delta);
  EXPECT_EQ(decoder.Frame(snapshot->payload).value_or("?"), R"({"room":{"viewers":10,"tracks":2}})");
  EXPECT_EQ(decoder.Frame(delta->payload).value_or("?"), R"({"room":{"viewers":11}})");
}

// A caller that keeps its values serialized (EncodeText) gets the very
// frames Encode writes when it hands over the same value's text and the
// patch Diff finds, across groups ended by budget and by the frame cap.
TEST(SnapshotEncoderTest, EncodeTextWritesWhatEncodeWritesForTheSameTextAndPatch) {
  SnapshotEncoder by_value(Compressed());
  SnapshotEncoder by_text(Compressed());
  test::StatsValues stats(/*seed=*/5, /*paths=*/12);
  Value last = stats.Current();
  ASSERT_TRUE(MustEncode(by_value, last)->snapshot);
  absl::StatusOr<EncodedFrame> first = by_text.EncodeText(Serialize(last), "");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->snapshot);
  EXPECT_EQ(by_text.value(), nullptr);
  int snapshots = 0, deltas = 0;
  for (int tick = 0; tick < 800; ++tick) {
    Value next = stats.Next(test::StatsValues::Scheduled(tick));
    // From the value the encoder keeps (its members may come in another
    // order than `last`'s, which orders a patch's removals).
    const MergePatch diff = Diff(*by_value.value(), next);
    const std::optional<EncodedFrame> want = MustEncode(by_value, next);
    if (!want.has_value()) continue;
    ASSERT_FALSE(diff.forced);
    absl::StatusOr<EncodedFrame> got = by_text.EncodeText(Serialize(next), Serialize(diff.patch));
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->snapshot, want->snapshot) << "tick " << tick;
    ASSERT_EQ(got->payload, want->payload) << "tick " << tick;
    ++(got->snapshot ? snapshots : deltas);
    last = std::move(next);
  }
  EXPECT_GE(snapshots, 3);
  EXPECT_GE(deltas, 300);
  // ResyncNext makes the next one a snapshot here too.
  by_text.ResyncNext();
  absl::StatusOr<EncodedFrame> resynced = by_text.EncodeText(Serialize(last), "{}");
  ASSERT_TRUE(resynced.ok());
  EXPECT_TRUE(resynced->snapshot);
}

}  // namespace
}  // namespace moq_stats::json
