// PublisherSession: session start (lite-05 SETUP both ways) and the stream
// types it refuses without ending the session.

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ErrorCode;
using lite::Version;

TEST(PublisherSetupTest, Lite05SendsSetupWithOriginOnFirstUniStream) {
  PublisherHarness h(Version::kLite05);
  const std::vector<uint64_t> uni = h.mux.OpenedStreams(false);
  ASSERT_EQ(uni.size(), 1u);
  EXPECT_EQ(uni[0], 2u);  // Client-initiated unidirectional stream 0.
  // The captured image: type 1, SETUP{Origin = our hop id}, FIN.
  EXPECT_EQ(h.Written(uni[0]), Hex(Unhex("01 0b 01 05 08 c0 0e 83 2a 2b 17 99 c8")));
  EXPECT_TRUE(h.mux.stream(uni[0])->fin);
}

TEST(PublisherSetupTest, Lite05SetupCarriesPathAndRoleWhenAsked) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.origin_id = 5;
  options.setup_path = "relay?jwt=x";
  options.setup_role = lite::kSetupRolePublisher;
  PublisherHarness h(Version::kLite05, options);
  const std::vector<uint64_t> uni = h.mux.OpenedStreams(false);
  ASSERT_EQ(uni.size(), 1u);
  EXPECT_EQ(h.Written(uni[0]), Hex(Unhex("01 14 03 02 0b \"relay?jwt=x\" 03 01 01 05 01 05")));
}

TEST(PublisherSetupTest, Lite03And04SendNoSetup) {
  for (Version v : {Version::kLite03, Version::kLite04}) {
    PublisherHarness h(v);
    EXPECT_TRUE(h.mux.OpenedStreams(false).empty());
    EXPECT_FALSE(h.session->closed());
  }
}

TEST(PublisherSetupTest, SetupWaitsForStreamCreditAndGoesFirst) {
  FakeStreamMux mux;
  mux.set_uni_credit(0);
  Origin origin;
  auto producer = origin.Publish(Path("a"), {"t"});
  ASSERT_TRUE(producer.ok());
  (*producer)->track("t")->WriteFrame("x");
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  lite::PublisherSession session(options, &mux, &origin, [] {});
  mux.set_events(&session);
  session.Start();
  lite::Subscribe sub;
  sub.broadcast = "a";
  sub.track = "t";
  mux.PeerOpenAndSend(true, ControlStream(lite::ControlStreamType::kSubscribe, Encode(sub, Version::kLite05)));
  EXPECT_TRUE(mux.OpenedStreams(false).empty());
  mux.GrantUni(2);
  const std::vector<uint64_t> uni = mux.OpenedStreams(false);
  ASSERT_EQ(uni.size(), 2u);
  EXPECT_EQ(mux.written(uni[0])[0], '\x01');  // SETUP before the group.
  EXPECT_EQ(mux.written(uni[1])[0], '\x00');
  mux.set_events(nullptr);
}

TEST(PublisherSetupTest, PeerSetupIsReadAndSessionGoesOn) {
  PublisherHarness h(Version::kLite05);
  const uint64_t id = h.mux.PeerOpenAndSend(false, Unhex("01 0b 01 05 08 c0 05 17 1b d9 d8 7e 0b"), true);
  EXPECT_FALSE(h.session->closed());
  EXPECT_FALSE(h.mux.stream(id)->stop_sending_code.has_value());
}

TEST(PublisherSetupTest, MalformedPeerSetupClosesWithDecode) {
  PublisherHarness h(Version::kLite05);
  // Two parameters with the same id.
  h.mux.PeerOpenAndSend(false, Unhex("01 07 02 05 01 01 05 01 02"), true);
  ASSERT_TRUE(h.session->closed());
  ASSERT_TRUE(h.mux.close_info().has_value());
  EXPECT_EQ(h.mux.close_info()->code, static_cast<uint64_t>(ErrorCode::kDecode));
  EXPECT_EQ(h.session->close_info()->code, static_cast<uint64_t>(ErrorCode::kDecode));
}

TEST(PublisherSetupTest, SetupStreamBefore05IsStoppedNotFatal) {
  PublisherHarness h(Version::kLite04);
  const uint64_t id = h.mux.PeerOpenAndSend(false, Unhex("01 01 00"), true);
  EXPECT_FALSE(h.session->closed());
  EXPECT_EQ(h.mux.stream(id)->stop_sending_code, static_cast<uint64_t>(ErrorCode::kUnexpectedStream));
}

TEST(PublisherSetupTest, PeerGroupStreamIsStoppedWithCancel) {
  PublisherHarness h(Version::kLite05);
  const uint64_t id = h.mux.PeerOpenAndSend(false, Unhex("00 02 00 00 01 00 01 41"));
  EXPECT_FALSE(h.session->closed());
  EXPECT_EQ(h.mux.stream(id)->stop_sending_code, static_cast<uint64_t>(ErrorCode::kCancel));
}

TEST(PublisherSetupTest, UnknownStreamTypesAreRefusedNotFatal) {
  PublisherHarness h(Version::kLite05);
  const uint64_t uni = h.mux.PeerOpenAndSend(false, Unhex("07 01 02"));
  const uint64_t bidi = h.Open(Unhex("3f 00"));
  const uint64_t session_type = h.Open(Unhex("00 00"));
  EXPECT_FALSE(h.session->closed());
  const uint64_t unexpected = static_cast<uint64_t>(ErrorCode::kUnexpectedStream);
  EXPECT_EQ(h.mux.stream(uni)->stop_sending_code, unexpected);
  EXPECT_EQ(h.mux.stream(bidi)->reset_code, unexpected);
  EXPECT_EQ(h.mux.stream(bidi)->stop_sending_code, unexpected);
  EXPECT_EQ(h.mux.stream(session_type)->reset_code, unexpected);
}

TEST(PublisherSetupTest, ProbeIsRefusedAsUnsupportedAndGoawayWithCancel) {
  PublisherHarness h(Version::kLite04);
  const uint64_t probe = h.Open(Unhex("04"));
  const uint64_t goaway = h.Open(Unhex("05 00"));
  EXPECT_FALSE(h.session->closed());
  EXPECT_EQ(h.mux.stream(probe)->reset_code, static_cast<uint64_t>(ErrorCode::kUnsupported));
  EXPECT_EQ(h.mux.stream(goaway)->reset_code, static_cast<uint64_t>(ErrorCode::kCancel));
}

TEST(PublisherSetupTest, TrackAndFetchStreamsBefore05AreUnexpected) {
  PublisherHarness h(Version::kLite03);
  const uint64_t track = h.Open(Unhex("06 02 00 00"));
  const uint64_t fetch = h.Open(Unhex("03 04 00 00 00 00"));
  EXPECT_FALSE(h.session->closed());
  const uint64_t unexpected = static_cast<uint64_t>(ErrorCode::kUnexpectedStream);
  EXPECT_EQ(h.mux.stream(track)->reset_code, unexpected);
  EXPECT_EQ(h.mux.stream(fetch)->reset_code, unexpected);
}

TEST(PublisherSetupTest, PeerCloseReleasesEverythingAndIgnoresLaterEvents) {
  PublisherHarness h(Version::kLite05);
  h.Publish("a", {"t"});
  lite::Subscribe sub;
  sub.broadcast = "a";
  sub.track = "t";
  h.Open(ControlStream(lite::ControlStreamType::kSubscribe, Encode(sub, Version::kLite05)));
  EXPECT_EQ(h.session->counters().subscriptions_active, 1u);
  h.mux.PeerClose(0, "bye");
  EXPECT_TRUE(h.session->closed());
  EXPECT_TRUE(h.session->close_info()->by_peer);
  EXPECT_EQ(h.session->close_info()->reason, "bye");
  // Later calls do nothing and do not crash.
  h.session->Poll();
  h.session->OnStreamOpened(101);
  h.session->OnStreamData(101, "\x02", false);
  h.session->OnStreamCreditAvailable();
}

}  // namespace
}  // namespace moq_stats::lite::test
