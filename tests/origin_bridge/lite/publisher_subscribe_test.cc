// PublisherSession: Subscribe streams and the Group streams they cause, per
// version: answers, latest-first, live groups, ranges, end and unsubscribe.

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ControlStreamType;
using lite::ErrorCode;
using lite::Version;

std::string SubscribeStream(Version v, uint64_t id, std::string broadcast, std::string track, uint8_t priority = 0,
                            std::optional<uint64_t> start = {}, std::optional<uint64_t> end = {}) {
  lite::Subscribe s;
  s.id = id;
  s.broadcast = std::move(broadcast);
  s.track = std::move(track);
  s.priority = priority;
  s.start_group = start;
  s.end_group = end;
  return ControlStream(ControlStreamType::kSubscribe, Encode(s, v));
}

TEST(PublisherSubscribeTest, Lite05CapturedExchangeIncludingTimestamp) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"data"})->track("data")->WriteFrame("{\"v\":0}");
  // The captured publisher stamped its frame 423 ms into the session.
  h.clock.Advance(absl::Milliseconds(423));
  const uint64_t id = h.Open(Unhex("02 15 00 09 \"sensors/a\" 04 \"data\" 03 00 00 00 00"));
  EXPECT_EQ(h.Written(id), "00 01 00");  // SUBSCRIBE_START group 0.
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 43 4e 07 {\"v\":0}")));
  EXPECT_TRUE(h.mux.stream(groups[0])->fin);
  EXPECT_EQ(h.session->counters().groups_sent, 1u);
  EXPECT_EQ(h.session->counters().group_bytes_sent, 7u);
  EXPECT_EQ(h.session->counters().subscriptions_served, 1u);
  EXPECT_EQ(h.session->counters().subscriptions_active, 1u);
}

TEST(PublisherSubscribeTest, Lite05TimestampsCountFromTheGivenEpoch) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  // The harness clock reads UnixEpoch + 1 h; measured from UnixEpoch + 1 h
  // - 2 s, a frame sent now is stamped 2000 ms, whenever the session began.
  options.timestamp_epoch = absl::UnixEpoch() + absl::Hours(1) - absl::Seconds(2);
  PublisherHarness h(Version::kLite05, options);
  h.Publish("b", {"t"})->track("t")->WriteFrame("x");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  EXPECT_EQ(h.Written(id), "00 01 00");
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 1u);
  // zigzag(2000) = 4000 = varint 4f a0.
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 4f a0 01 \"x\"")));
}

TEST(PublisherSubscribeTest, Lite04And03AnswerSubscribeOkAndOmitTimestamps) {
  for (Version v : {Version::kLite03, Version::kLite04}) {
    PublisherHarness h(v);
    h.Publish("sensors/a", {"data"})->track("data")->WriteFrame("{\"v\":0}");
    const uint64_t id = h.Open(SubscribeStream(v, 0, "sensors/a", "data", 3));
    // SUBSCRIBE_OK{priority echoed, unordered, 0 latency, no start, no end}.
    EXPECT_EQ(h.Written(id), "00 05 03 00 00 00 00");
    const std::vector<uint64_t> groups = h.GroupStreams();
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 00 00 07 {\"v\":0}")));
  }
}

TEST(PublisherSubscribeTest, LateSubscriberGetsLatestFirstThenLive) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->WriteFrame("g0");
  t->WriteFrame("g1");
  t->WriteFrame("g2");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 7, "b", "t"));
  EXPECT_EQ(h.Written(id), "00 01 02");  // Starts at group 2.
  t->WriteFrame("g3");
  h.session->Poll();
  const std::vector<uint64_t> groups = h.GroupStreams();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(h.Written(groups[0]), Hex(Unhex("00 02 07 02 00 02 \"g2\"")));
  EXPECT_EQ(h.Written(groups[1]), Hex(Unhex("00 02 07 03 00 02 \"g3\"")));
}

TEST(PublisherSubscribeTest, Lite05StartWaitsForTheFirstGroup) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  EXPECT_EQ(h.Written(id), "");
  t->WriteFrame("x");
  h.session->Poll();
  EXPECT_EQ(h.Written(id), "00 01 00");
  EXPECT_EQ(h.GroupStreams().size(), 1u);
}

TEST(PublisherSubscribeTest, StartGroupSkipsOlderGroups) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->WriteFrame("g0");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t", 0, 2));
  t->WriteFrame("g1");
  t->WriteFrame("g2");
  h.session->Poll();
  EXPECT_EQ(h.Written(id), "00 01 02");
  ASSERT_EQ(h.GroupStreams().size(), 1u);
  EXPECT_EQ(h.Written(h.GroupStreams()[0]), Hex(Unhex("00 02 00 02 00 02 \"g2\"")));
}

TEST(PublisherSubscribeTest, EndGroupParksUntilUpdateRaisesIt) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->WriteFrame("g0");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t", 0, {}, 0));
  t->WriteFrame("g1");
  t->WriteFrame("g2");
  h.session->Poll();
  EXPECT_EQ(h.GroupStreams().size(), 1u);  // Only group 0.
  lite::SubscribeUpdate update;
  update.end_group = 1;
  h.mux.PeerSend(id, Encode(update, Version::kLite05));
  ASSERT_EQ(h.GroupStreams().size(), 2u);
  EXPECT_EQ(h.Written(h.GroupStreams()[1]), Hex(Unhex("00 02 00 01 00 02 \"g1\"")));
  update.end_group.reset();
  h.mux.PeerSend(id, Encode(update, Version::kLite05));
  ASSERT_EQ(h.GroupStreams().size(), 3u);
  EXPECT_EQ(h.Written(h.GroupStreams()[2]), Hex(Unhex("00 02 00 02 00 02 \"g2\"")));
  EXPECT_FALSE(h.mux.stream(id)->fin);  // Reaching the end does not end it.
}

TEST(PublisherSubscribeTest, PeerFinUnsubscribes) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  h.mux.PeerSend(id, "", true);
  EXPECT_TRUE(h.mux.stream(id)->fin);
  EXPECT_EQ(h.session->counters().subscriptions_active, 0u);
  t->WriteFrame("x");
  h.session->Poll();
  EXPECT_TRUE(h.GroupStreams().empty());
}

TEST(PublisherSubscribeTest, BroadcastEndSendsEndThenFin) {
  PublisherHarness h(Version::kLite05);
  BroadcastProducer* b = h.Publish("b", {"t"});
  b->track("t")->WriteFrame("g0");
  b->track("t")->WriteFrame("g1");
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  h.Unpublish(b);
  const int wakes = h.wakes.load();
  h.session->Poll();
  // The end waits for the next Poll, so it travels after the last group's
  // bytes; the session asked its owner for that Poll.
  EXPECT_EQ(h.Written(id), "00 01 01");
  EXPECT_FALSE(h.mux.stream(id)->fin);
  EXPECT_GT(h.wakes.load(), wakes);
  h.session->Poll();
  // SUBSCRIBE_START 1, SUBSCRIBE_END 2 (exclusive), FIN.
  EXPECT_EQ(h.Written(id), "00 01 01 01 01 02");
  EXPECT_TRUE(h.mux.stream(id)->fin);
  EXPECT_EQ(h.session->counters().subscriptions_active, 0u);
}

TEST(PublisherSubscribeTest, Lite04BroadcastEndJustFins) {
  PublisherHarness h(Version::kLite04);
  BroadcastProducer* b = h.Publish("b", {"t"});
  const uint64_t id = h.Open(SubscribeStream(Version::kLite04, 0, "b", "t"));
  h.Unpublish(b);
  h.session->Poll();
  EXPECT_FALSE(h.mux.stream(id)->fin);
  h.session->Poll();
  EXPECT_EQ(h.Written(id), "00 05 00 00 00 00 00");
  EXPECT_TRUE(h.mux.stream(id)->fin);
}

TEST(PublisherSubscribeTest, UnknownBroadcastIsUnroutableAndUnknownTrackNotFound) {
  PublisherHarness h(Version::kLite05);
  h.Publish("b", {"t"});
  const uint64_t no_broadcast = h.Open(SubscribeStream(Version::kLite05, 0, "nope", "t"));
  const uint64_t no_track = h.Open(SubscribeStream(Version::kLite05, 1, "b", "nope"));
  const uint64_t unroutable = static_cast<uint64_t>(ErrorCode::kUnroutable);
  const uint64_t not_found = static_cast<uint64_t>(ErrorCode::kNotFound);
  EXPECT_EQ(h.mux.stream(no_broadcast)->reset_code, unroutable);
  EXPECT_EQ(h.mux.stream(no_broadcast)->stop_sending_code, unroutable);
  EXPECT_EQ(h.mux.stream(no_track)->reset_code, not_found);
  EXPECT_EQ(h.mux.stream(no_track)->stop_sending_code, not_found);
  EXPECT_EQ(h.session->counters().subscriptions_refused, 2u);
  EXPECT_FALSE(h.session->closed());
}

TEST(PublisherSubscribeTest, TooManySubscriptionsAreRefusedWithBoundsExceeded) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.max_subscriptions = 1;
  PublisherHarness h(Version::kLite05, options);
  h.Publish("b", {"t"});
  h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  const uint64_t second = h.Open(SubscribeStream(Version::kLite05, 1, "b", "t"));
  EXPECT_EQ(h.mux.stream(second)->reset_code, static_cast<uint64_t>(ErrorCode::kBoundsExceeded));
}

TEST(PublisherSubscribeTest, PeerResetDropsTheSubscription) {
  PublisherHarness h(Version::kLite05);
  h.Publish("b", {"t"});
  const uint64_t id = h.Open(SubscribeStream(Version::kLite05, 0, "b", "t"));
  h.mux.PeerReset(id, 0);
  EXPECT_EQ(h.session->counters().subscriptions_active, 0u);
  EXPECT_EQ(h.mux.stream(id)->reset_code, 0u);
}

}  // namespace
}  // namespace moq_stats::lite::test
