// PublisherSession: Announce streams (ANNOUNCE_REQUEST -> ANNOUNCE_OK /
// ANNOUNCE) for each version, live changes through Poll, and their end.

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ControlStreamType;
using lite::ErrorCode;
using lite::Version;

std::string Request(Version v, std::string prefix, uint64_t exclude_hop = 0) {
  lite::AnnounceRequest r;
  r.prefix = std::move(prefix);
  r.exclude_hop = exclude_hop;
  return ControlStream(ControlStreamType::kAnnounce, Encode(r, v));
}

TEST(PublisherAnnounceTest, Lite05CapturedExchange) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"data"});
  const uint64_t id = h.Open(Unhex("01 09 00 c0 05 17 1b d9 d8 7e 0b"));
  EXPECT_EQ(h.Written(id), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 01"
                                     "0c 01 09 \"sensors/a\" 00")));
  EXPECT_FALSE(h.mux.stream(id)->fin);
  EXPECT_EQ(h.session->counters().announce_requests, 1u);
  EXPECT_EQ(h.session->counters().announcements_sent, 1u);
  EXPECT_EQ(h.session->counters().announced_broadcasts, 1u);
}

TEST(PublisherAnnounceTest, Lite05EmptyOriginSendsZeroCount) {
  PublisherHarness h(Version::kLite05);
  const uint64_t id = h.Open(Request(Version::kLite05, ""));
  EXPECT_EQ(h.Written(id), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 00")));
}

TEST(PublisherAnnounceTest, Lite04AnnouncesWithOwnHopAndNoFirstMessage) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.origin_id = 7;
  PublisherHarness h(Version::kLite04, options);
  h.Publish("sensors/a", {"data"});
  const uint64_t id = h.Open(Request(Version::kLite04, "", 9));
  EXPECT_EQ(h.Written(id), Hex(Unhex("0d 01 09 \"sensors/a\" 01 07")));
}

TEST(PublisherAnnounceTest, Lite03AnnouncesWithHopCountOnly) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.origin_id = 7;
  PublisherHarness h(Version::kLite03, options);
  h.Publish("sensors/a", {"data"});
  const uint64_t id = h.Open(Request(Version::kLite03, ""));
  EXPECT_EQ(h.Written(id), Hex(Unhex("0c 01 09 \"sensors/a\" 01")));
}

TEST(PublisherAnnounceTest, SuffixIsRelativeToPrefixAndOthersAreFiltered) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"t"});
  h.Publish("sensorsX", {"t"});
  h.Publish("other/b", {"t"});
  const uint64_t id = h.Open(Request(Version::kLite05, "/sensors/"));
  EXPECT_EQ(h.Written(id), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 01 04 01 01 \"a\" 00")));
}

TEST(PublisherAnnounceTest, LiveAnnounceAndUnannounceThroughPoll) {
  PublisherHarness h(Version::kLite05);
  const uint64_t id = h.Open(Request(Version::kLite05, "sensors"));
  const std::string first = h.mux.written(id);
  BroadcastProducer* b = h.Publish("sensors/b", {"t"});
  EXPECT_GT(h.wakes.load(), 0);
  EXPECT_EQ(h.mux.written(id), first);  // Nothing until Poll.
  h.session->Poll();
  EXPECT_EQ(Hex(h.mux.written(id).substr(first.size())), Hex(Unhex("04 01 01 \"b\" 00")));
  EXPECT_EQ(h.session->counters().announced_broadcasts, 1u);
  h.Unpublish(b);
  h.session->Poll();
  EXPECT_EQ(Hex(h.mux.written(id).substr(first.size())), Hex(Unhex("04 01 01 \"b\" 00 04 00 01 \"b\" 00")));
  EXPECT_EQ(h.session->counters().announcements_sent, 2u);
  EXPECT_EQ(h.session->counters().announced_broadcasts, 0u);
}

TEST(PublisherAnnounceTest, Lite04UnannounceCarriesNoHops) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.origin_id = 7;
  PublisherHarness h(Version::kLite04, options);
  BroadcastProducer* b = h.Publish("x", {"t"});
  const uint64_t id = h.Open(Request(Version::kLite04, ""));
  h.Unpublish(b);
  h.session->Poll();
  EXPECT_EQ(h.Written(id), Hex(Unhex("05 01 01 \"x\" 01 07 04 00 01 \"x\" 00")));
}

TEST(PublisherAnnounceTest, SeveralAnnounceStreamsCoexist) {
  PublisherHarness h(Version::kLite05);
  h.Publish("a/1", {"t"});
  const uint64_t all = h.Open(Request(Version::kLite05, ""));
  const uint64_t only_a = h.Open(Request(Version::kLite05, "a"));
  h.Publish("b/1", {"t"});
  h.session->Poll();
  EXPECT_EQ(h.Written(all), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 01"
                                      "06 01 03 \"a/1\" 00 06 01 03 \"b/1\" 00")));
  EXPECT_EQ(h.Written(only_a), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 01 04 01 01 \"1\" 00")));
  EXPECT_EQ(h.session->counters().announced_broadcasts, 2u);
}

TEST(PublisherAnnounceTest, PeerFinEndsTheStreamWithFin) {
  PublisherHarness h(Version::kLite05);
  const uint64_t id = h.Open(Request(Version::kLite05, ""));
  h.mux.PeerSend(id, "", true);
  EXPECT_TRUE(h.mux.stream(id)->fin);
  const std::string before = h.mux.written(id);
  h.Publish("late", {"t"});
  h.session->Poll();
  EXPECT_EQ(h.mux.written(id), before);
  EXPECT_FALSE(h.session->closed());
}

TEST(PublisherAnnounceTest, PeerResetIsEchoedAndReleasesTheConsumer) {
  PublisherHarness h(Version::kLite05);
  h.Publish("a", {"t"});
  const uint64_t id = h.Open(Request(Version::kLite05, ""));
  EXPECT_EQ(h.session->counters().announced_broadcasts, 1u);
  h.mux.PeerReset(id, 42);
  EXPECT_EQ(h.mux.stream(id)->reset_code, 42u);
  EXPECT_EQ(h.session->counters().announced_broadcasts, 0u);
  EXPECT_FALSE(h.session->closed());
}

TEST(PublisherAnnounceTest, BytesAfterRequestCloseWithDecode) {
  PublisherHarness h(Version::kLite05);
  h.Open(Request(Version::kLite05, "") + Unhex("00"));
  ASSERT_TRUE(h.session->closed());
  EXPECT_EQ(h.mux.close_info()->code, static_cast<uint64_t>(ErrorCode::kDecode));
}

TEST(PublisherAnnounceTest, RequestSplitAcrossReadsIsReassembled) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"data"});
  const std::string bytes = Unhex("01 09 00 c0 05 17 1b d9 d8 7e 0b");
  const uint64_t id = h.mux.PeerOpen(true);
  for (char c : bytes) h.mux.PeerSend(id, std::string(1, c));
  EXPECT_EQ(h.Written(id), Hex(Unhex("09 c0 0e 83 2a 2b 17 99 c8 01"
                                     "0c 01 09 \"sensors/a\" 00")));
}

}  // namespace
}  // namespace moq_stats::lite::test
