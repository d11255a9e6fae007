// PublisherSession: malformed input closes the session with the codec's
// code (or, with close_on_stream_error off, resets only that stream).

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ErrorCode;
using lite::Version;

uint64_t Code(ErrorCode c) { return static_cast<uint64_t>(c); }

TEST(PublisherErrorsTest, OversizedDeclaredLengthClosesWithBoundsExceeded) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.max_message_size = 100;
  PublisherHarness h(Version::kLite05, options);
  // SUBSCRIBE declaring 101 bytes: refused before the body arrives.
  h.Open(Unhex("02 40 65"));
  ASSERT_TRUE(h.session->closed());
  EXPECT_EQ(h.mux.close_info()->code, Code(ErrorCode::kBoundsExceeded));
  EXPECT_FALSE(h.session->close_info()->by_peer);
}

TEST(PublisherErrorsTest, LengthAtTheLimitIsAccepted) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.max_message_size = 3;
  PublisherHarness h(Version::kLite05, options);
  h.Open(Unhex("01 03 00 40 00"));  // ANNOUNCE_REQUEST "", non-minimal hop 0.
  EXPECT_FALSE(h.session->closed());
}

TEST(PublisherErrorsTest, BadMessageBodyClosesWithDecode) {
  PublisherHarness h(Version::kLite05);
  // SUBSCRIBE whose track string runs past the body.
  h.Open(Unhex("02 04 00 01 \"a\" 09"));
  ASSERT_TRUE(h.session->closed());
  EXPECT_EQ(h.mux.close_info()->code, Code(ErrorCode::kDecode));
}

TEST(PublisherErrorsTest, StreamEndingInsideAMessageClosesWithDecode) {
  PublisherHarness h(Version::kLite05);
  h.Open(Unhex("02 15 00 09"), /*fin=*/true);
  ASSERT_TRUE(h.session->closed());
  EXPECT_EQ(h.mux.close_info()->code, Code(ErrorCode::kDecode));
}

TEST(PublisherErrorsTest, MalformedSubscribeUpdateClosesWithDecode) {
  PublisherHarness h(Version::kLite04);
  h.Publish("b", {"t"});
  lite::Subscribe s;
  s.broadcast = "b";
  s.track = "t";
  const uint64_t id = h.Open(ControlStream(lite::ControlStreamType::kSubscribe, Encode(s, Version::kLite04)));
  h.mux.PeerSend(id, Unhex("01 00"));  // Update body too short.
  ASSERT_TRUE(h.session->closed());
  EXPECT_EQ(h.mux.close_info()->code, Code(ErrorCode::kDecode));
}

TEST(PublisherErrorsTest, WithoutCloseOnStreamErrorOnlyTheStreamIsReset) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.close_on_stream_error = false;
  PublisherHarness h(Version::kLite05, options);
  h.Publish("b", {"t"});
  const uint64_t bad = h.Open(Unhex("02 04 00 01 \"a\" 09"));
  EXPECT_FALSE(h.session->closed());
  EXPECT_EQ(h.mux.stream(bad)->reset_code, Code(ErrorCode::kDecode));
  EXPECT_EQ(h.mux.stream(bad)->stop_sending_code, Code(ErrorCode::kDecode));
  // The session still serves.
  const uint64_t ok = h.Open(Unhex("06 04 01 \"b\" 01 \"t\""));
  EXPECT_EQ(h.Written(ok), "06 00 00 53 88 43 e8");
}

TEST(PublisherErrorsTest, AfterCloseEverythingIsIgnored) {
  PublisherHarness h(Version::kLite05);
  h.Open(Unhex("02 04 00 01 \"a\" 09"));
  ASSERT_TRUE(h.session->closed());
  const uint64_t code = h.session->close_info()->code;
  h.mux.PeerClose(99, "late");
  EXPECT_EQ(h.session->close_info()->code, code);
  h.session->Poll();
  h.session->OnStreamOpened(400);
  h.session->OnStreamData(400, Unhex("01 01 00"), true);
  h.session->OnStreamReset(400, 1);
  h.session->OnStopSending(400, 1);
  EXPECT_EQ(h.session->counters().announce_requests, 0u);
}

TEST(PublisherErrorsTest, DataForUnknownStreamsIsIgnored) {
  PublisherHarness h(Version::kLite05);
  h.session->OnStreamData(77, Unhex("02 15"), false);
  h.session->OnStreamReset(78, 3);
  h.session->OnStopSending(2, 0);  // Our own SETUP stream.
  EXPECT_FALSE(h.session->closed());
}

}  // namespace
}  // namespace moq_stats::lite::test
