#include "server/stats/snapshot_frame.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

SnapshotFrame Frame() {
  SnapshotFrame f;
  f.level = "demo";
  f.tier = Tier::kExternal;
  f.role = Role::kPublisher;
  f.node = "sjc";
  f.ts_ms = 1700000000123;
  f.snapshot = Counts{3, 1, 7, 2, 123456, 789, 12};
  return f;
}

std::string Escaped(const std::string& s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// The golden strings below are what serde_json::to_vec writes for the
// seed module's SnapshotFrame with the same values.

TEST(SnapshotFrameTest, GoldenWithNode) {
  EXPECT_EQ(EncodeSnapshotFrame(Frame()),
            R"({"v":1,"level":"demo","tier":"external","role":"publisher","node":"sjc","ts_ms":1700000000123,)"
            R"("broadcasts":3,"broadcasts_closed":1,"subscriptions":7,"subscriptions_closed":2,"bytes":123456,)"
            R"("frames":789,"groups":12})");
}

TEST(SnapshotFrameTest, GoldenWithoutNodeOmitsTheField) {
  SnapshotFrame f = Frame();
  f.node = "";
  f.level = "";
  f.tier = Tier::kInternal;
  f.role = Role::kSubscriber;
  f.snapshot = Counts{};
  f.ts_ms = 0;
  EXPECT_EQ(EncodeSnapshotFrame(f),
            R"({"v":1,"level":"","tier":"internal","role":"subscriber","ts_ms":0,"broadcasts":0,)"
            R"("broadcasts_closed":0,"subscriptions":0,"subscriptions_closed":0,"bytes":0,"frames":0,"groups":0})");
}

TEST(SnapshotFrameTest, GoldenMaximumValues) {
  SnapshotFrame f = Frame();
  const uint64_t max = ~uint64_t{0};
  f.snapshot = Counts{max, max, max, max, max, max, max};
  f.ts_ms = 9223372036854775807;
  EXPECT_EQ(EncodeSnapshotFrame(f),
            R"({"v":1,"level":"demo","tier":"external","role":"publisher","node":"sjc","ts_ms":9223372036854775807,)"
            R"("broadcasts":18446744073709551615,"broadcasts_closed":18446744073709551615,)"
            R"("subscriptions":18446744073709551615,"subscriptions_closed":18446744073709551615,)"
            R"("bytes":18446744073709551615,"frames":18446744073709551615,"groups":18446744073709551615})");
}

TEST(SnapshotFrameTest, NegativeTimestampIsClampedToZero) {
  SnapshotFrame f = Frame();
  f.ts_ms = -5;
  EXPECT_NE(EncodeSnapshotFrame(f).find(R"("ts_ms":0,)"), std::string::npos);
}

TEST(SnapshotFrameTest, EscapesAsSerdeJson) {
  EXPECT_EQ(Escaped("plain"), R"("plain")");
  EXPECT_EQ(Escaped("a\"b"), R"("a\"b")");
  EXPECT_EQ(Escaped("a\\b"), R"("a\\b")");
  EXPECT_EQ(Escaped("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Escaped(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Escaped("\x0b"), R"("\u000b")");
  // DEL, '/' and non-ASCII UTF-8 are written as they are.
  EXPECT_EQ(Escaped("\x7f"), "\"\x7f\"");
  EXPECT_EQ(Escaped("a/b"), R"("a/b")");
  EXPECT_EQ(Escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Escaped(""), R"("")");
}

TEST(SnapshotFrameTest, EscapingInLevelAndNode) {
  SnapshotFrame f = Frame();
  f.level = "we\"ird\\lev\nel";
  f.node = "n\x01";
  std::string json = EncodeSnapshotFrame(f);
  EXPECT_NE(json.find(R"("level":"we\"ird\\lev\nel")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("node":"n\u0001")"), std::string::npos) << json;
}

}  // namespace
}  // namespace moq_stats::server
