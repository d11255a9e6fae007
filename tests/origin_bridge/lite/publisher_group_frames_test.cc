// PublisherSession: groups of many frames. A group that may grow keeps its
// Group stream open, its later frames written to the same stream, until the
// next group starts or the track ends; a late subscriber starts at the
// latest group's frame 0; what is held for credit stays bounded to one
// group's frames and a cut-short group is reset, never passed off as whole.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ControlStreamType;
using lite::ErrorCode;
using lite::Version;

std::string SubscribeStream(Version v, uint64_t id, std::string broadcast, std::string track) {
  lite::Subscribe s;
  s.id = id;
  s.broadcast = std::move(broadcast);
  s.track = std::move(track);
  return ControlStream(ControlStreamType::kSubscribe, Encode(s, v));
}

std::string FetchStream(std::string broadcast, std::string track, uint64_t group) {
  lite::Fetch f;
  f.broadcast = std::move(broadcast);
  f.track = std::move(track);
  f.group = group;
  return ControlStream(ControlStreamType::kFetch, Encode(f, Version::kLite05));
}

TEST(PublisherGroupFramesTest, FramesOfAGroupShareItsStreamUntilTheNextGroup) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.Open(SubscribeStream(Version::kLite05, 7, "b", "t"));
  t->StartGroup("a0");
  h.session->Poll();
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  ASSERT_TRUE(t->AppendFrame("a2").ok());
  h.session->Poll();
  std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  // GROUP{7, 0}, then three frames (timestamp delta 0, size, payload).
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 07 00 00 02 \"a0\" 00 02 \"a1\" 00 02 \"a2\"")));
  EXPECT_FALSE(h.mux.stream(groups[0])->fin) << "the group may still grow";

  t->StartGroup("b0");
  h.session->Poll();
  groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_TRUE(h.mux.stream(groups[0])->fin) << "the next group finishes the previous one";
  EXPECT_FALSE(h.mux.stream(groups[0])->reset_code.has_value());
  EXPECT_EQ(h.Written(groups[1]), Hex(Unhex("00 02 07 01 00 02 \"b0\"")));
  // A single-frame group is finished with its frame.
  t->WriteFrame("c");
  h.session->Poll();
  groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_TRUE(h.mux.stream(groups[1])->fin);
  EXPECT_EQ(h.Written(groups[2]), Hex(Unhex("00 02 07 02 00 01 \"c\"")));
  EXPECT_TRUE(h.mux.stream(groups[2])->fin);
  EXPECT_EQ(h.session->counters().groups_sent, 3u);
  EXPECT_EQ(h.session->counters().group_bytes_sent, 9u);
}

TEST(PublisherGroupFramesTest, FrameTimestampsDeltaAgainstThePreviousFrame) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  h.clock.Advance(absl::Milliseconds(5));
  t->StartGroup("a");
  h.session->Poll();
  h.clock.Advance(absl::Milliseconds(3));
  ASSERT_TRUE(t->AppendFrame("b").ok());
  h.session->Poll();
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  // Zigzag: 5 ms -> 0a, then +3 ms -> 06.
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 0a 01 \"a\" 06 01 \"b\"")));
}

TEST(PublisherGroupFramesTest, LateSubscriberStartsAtTheLatestGroupsFirstFrame) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->StartGroup("a0");
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  t->StartGroup("b0");
  ASSERT_TRUE(t->AppendFrame("b1").ok());
  ASSERT_TRUE(t->AppendFrame("b2").ok());
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 3, "b", "t"));
  EXPECT_EQ(h.Written(id), "00 01 01");  // SUBSCRIBE_START at group 1
  ASSERT_TRUE(t->AppendFrame("b3").ok());
  h.session->Poll();
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 03 01 00 02 \"b0\" 00 02 \"b1\" 00 02 \"b2\" 00 02 \"b3\"")));
}

TEST(PublisherGroupFramesTest, TrackEndFinishesTheOpenGroup) {
  PublisherHarness h(Version::kLite05);
  BroadcastProducer* b = h.Publish("b", {"t"});
  b->track("t")->StartGroup("a0");
  ASSERT_TRUE(b->track("t")->AppendFrame("a1").ok());
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_FALSE(h.mux.stream(groups[0])->fin);
  h.Unpublish(b);
  h.session->Poll();
  EXPECT_TRUE(h.mux.stream(groups[0])->fin);
  h.session->Poll();
  EXPECT_TRUE(h.mux.stream(id)->fin);
}

TEST(PublisherGroupFramesTest, UnsubscribeMidGroupResetsItsStream) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  t->StartGroup("a0");
  h.session->Poll();
  h.mux.PeerSend(id, "", true);
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(h.mux.stream(groups[0])->reset_code, static_cast<uint64_t>(ErrorCode::kCancel));
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  h.session->Poll();
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 00 02 \"a0\"")));
}

// Without stream credit a subscription holds the frames of one group: the
// newest group's, from its frame 0; older groups are skipped whole.
TEST(PublisherGroupFramesTest, WithoutCreditOnlyTheNewestGroupIsHeldWhole) {
  PublisherHarness h(Version::kLite04);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.mux.set_uni_credit(0);
  h.Open(SubscribeStream(Version::kLite04, 0, "b", "t"));
  constexpr int kGroups = 20;
  for (int g = 0; g < kGroups; ++g) {
    t->StartGroup(absl::StrCat("s", g));
    for (int i = 1; i < 4; ++i) ASSERT_TRUE(t->AppendFrame(absl::StrCat("d", i)).ok());
    h.session->Poll();
  }
  EXPECT_TRUE(h.GroupStreams().empty());
  EXPECT_EQ(h.session->counters().groups_skipped, static_cast<uint64_t>(kGroups - 1));
  h.mux.GrantUni(10);
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  // lite-04: GROUP{0, 19}, then [size][payload] per frame.
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 13 03 \"s19\" 02 \"d1\" 02 \"d2\" 02 \"d3\"")));
  EXPECT_FALSE(h.mux.stream(groups[0])->fin);
}

// Frames of the open group wait while the mux holds too many bytes; a newer
// group then replaces them, and the cut-short group's stream is reset.
TEST(PublisherGroupFramesTest, HeldFramesOfTheOpenGroupGiveWayToANewerGroup) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.max_queued_bytes = 1000;
  PublisherHarness h(Version::kLite04, options);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.Open(SubscribeStream(Version::kLite04, 0, "b", "t"));
  t->StartGroup("a0");
  h.session->Poll();
  h.mux.set_queued_bytes(5000);
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  h.session->Poll();
  std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 02 \"a0\"")));
  // The bytes drain: the held frame goes to the open stream.
  h.mux.set_queued_bytes(0);
  h.session->Poll();
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 02 \"a0\" 02 \"a1\"")));
  // Held again, then replaced by a newer group.
  h.mux.set_queued_bytes(5000);
  ASSERT_TRUE(t->AppendFrame("a2").ok());
  t->StartGroup("b0");
  h.session->Poll();
  EXPECT_EQ(h.mux.stream(groups[0])->reset_code, static_cast<uint64_t>(ErrorCode::kCancel));
  h.mux.set_queued_bytes(0);
  h.session->Poll();
  groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(h.Written(groups[1]), Hex(Unhex("00 02 00 01 02 \"b0\"")));
  EXPECT_EQ(h.session->counters().groups_skipped, 1u);
}

// A session that is not polled while the track runs far ahead: the origin
// skips whole groups for it, the rest of the open group among them, so that
// group's stream is reset rather than finished as if whole; the session
// goes on at a later group's frame 0.
TEST(PublisherGroupFramesTest, GroupsTheOriginSkippedResetTheOpenGroup) {
  PublisherHarness h(Version::kLite04);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.Open(SubscribeStream(Version::kLite04, 0, "b", "t"));
  t->StartGroup("a0");
  h.session->Poll();
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  for (size_t g = 1; g <= TrackConsumer::kMaxPending + 1; ++g) t->WriteFrame(absl::StrCat("g", g));
  h.session->Poll();
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_GE(groups.size(), 2u);
  EXPECT_EQ(h.mux.stream(groups[0])->reset_code, static_cast<uint64_t>(ErrorCode::kCancel));
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 02 \"a0\"")));
  // Group 1 and the rest of group 0 were skipped: the next stream is group 2.
  EXPECT_EQ(h.Written(groups[1]), Hex(Unhex("00 02 00 02 02 \"g2\"")));
}

TEST(PublisherGroupFramesTest, FetchServesEveryFrameOfTheLatestGroup) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->StartGroup("a0");
  ASSERT_TRUE(t->AppendFrame("a1").ok());
  const uint64_t id = h.Open(FetchStream("b", "t", 0));
  EXPECT_EQ(h.Written(id), Hex(Unhex("00 02 \"a0\" 00 02 \"a1\"")));
  EXPECT_TRUE(h.mux.stream(id)->fin);
}

}  // namespace
}  // namespace moq_stats::lite::test
