// qmux::Connection: opening streams, data both ways, resets, stop-sending,
// stream-id rules, retirement of finished streams, and re-entrant callbacks.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/qmux/connection.h"
#include "tests/origin_bridge/qmux/test_tools/connection_pair.h"
#include "tests/origin_bridge/qmux/test_tools/connection_test_peer.h"
#include "tests/origin_bridge/qmux/test_tools/recording_stream_events.h"
#include "tests/origin_bridge/qmux/test_tools/wire.h"

namespace moq_stats::qmux::test {
namespace {

// A server connection past the handshake, played by hand as the client.
class HandPlayedServer : public testing::Test {
 protected:
  HandPlayedServer() : server_(ConnectionPair::Options(Perspective::kServer), &events_) {
    server_.TakeOutgoing();
    server_.OnBytesReceived(ParametersRecord());
  }
  void Send(const Frame& frame) { server_.OnBytesReceived(EncodeRecord(frame)); }
  std::vector<Frame> Sent() { return DecodeRecords(server_.TakeOutgoing()); }

  RecordingStreamEvents events_;
  Connection server_;
};

TEST(ConnectionStreamsTest, BidirectionalRoundTrip) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  auto id = pair.client().OpenStream(/*bidirectional=*/true);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 0u);
  ASSERT_TRUE(pair.client().Write(*id, "hello", /*fin=*/true).ok());
  ASSERT_TRUE(pair.Pump());
  EXPECT_THAT(server_events.opened, testing::ElementsAre(0u));
  EXPECT_EQ(server_events.data[0], "hello");
  EXPECT_TRUE(server_events.finished.count(0));
  ASSERT_TRUE(pair.server().Write(0, "world", /*fin=*/true).ok());
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(client_events.data[0], "world");
  EXPECT_TRUE(client_events.finished.count(0));
  EXPECT_TRUE(client_events.opened.empty());
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.client()), 0u);
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.server()), 0u);
  EXPECT_EQ(pair.client().counters().streams_opened, 1u);
  EXPECT_EQ(pair.server().counters().peer_streams_opened, 1u);
}

TEST(ConnectionStreamsTest, StreamIdsFollowPerspectiveAndDirection) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(*pair.client().OpenStream(true), 0u);
  EXPECT_EQ(*pair.client().OpenStream(false), 2u);
  EXPECT_EQ(*pair.client().OpenStream(true), 4u);
  EXPECT_EQ(*pair.server().OpenStream(true), 1u);
  EXPECT_EQ(*pair.server().OpenStream(false), 3u);
  EXPECT_EQ(*pair.server().OpenStream(false), 7u);
  ASSERT_TRUE(pair.server().Write(7, "uni", /*fin=*/true).ok());
  ASSERT_TRUE(pair.Pump());
  // Stream 7 opened 3 (a lower uni id of the server) first.
  EXPECT_THAT(client_events.opened, testing::ElementsAre(3u, 7u));
  EXPECT_EQ(client_events.data[7], "uni");
}

TEST_F(HandPlayedServer, HigherIdOpensLowerIdsInOrder) {
  Send(Stream(8, 0, "x"));
  EXPECT_THAT(events_.opened, testing::ElementsAre(0u, 4u, 8u));
  EXPECT_EQ(events_.data[8], "x");
  Send(Stream(4, 0, "y"));
  EXPECT_THAT(events_.opened, testing::ElementsAre(0u, 4u, 8u));
  EXPECT_EQ(events_.data[4], "y");
}

TEST_F(HandPlayedServer, StreamOnOurUnidirectionalIdIsStreamStateError) {
  ASSERT_TRUE(server_.OpenStream(/*bidirectional=*/false).ok());  // id 3
  Send(Stream(3, 0, "no"));
  ASSERT_TRUE(events_.close.has_value());
  EXPECT_EQ(events_.close->code, kStreamStateError);
  auto closes = FramesOf<ConnectionCloseFrame>(Sent());
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].frame_type, 0x0eu);
}

TEST_F(HandPlayedServer, StreamOnOurUnopenedIdIsStreamStateError) {
  Send(Stream(1, 0, "no"));
  ASSERT_TRUE(events_.close.has_value());
  EXPECT_EQ(events_.close->code, kStreamStateError);
}

TEST_F(HandPlayedServer, StopSendingOnPeersUnidirectionalIsStreamStateError) {
  Send(Stream(2, 0, "a"));
  Send(StopSendingFrame{2, 9});
  ASSERT_TRUE(events_.close.has_value());
  EXPECT_EQ(events_.close->code, kStreamStateError);
}

TEST_F(HandPlayedServer, WriteRulesFollowTheStreamState) {
  Send(Stream(2, 0, "a"));  // The client's uni stream.
  EXPECT_EQ(server_.Write(2, "x", false).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_.Write(99 * 4 + 1, "x", false).code(), absl::StatusCode::kFailedPrecondition);
  auto id = server_.OpenStream(/*bidirectional=*/false);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(server_.Write(*id, "x", /*fin=*/true).ok());
  EXPECT_EQ(server_.Write(*id, "y", false).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(HandPlayedServer, RepeatedBytesAreTrimmedAndGapsRefused) {
  Send(Stream(0, 0, "abc"));
  Send(Stream(0, 1, "bcde"));  // Overlaps "bc".
  Send(Stream(0, 0, "ab"));    // Entirely old.
  EXPECT_EQ(events_.data[0], "abcde");
  EXPECT_FALSE(server_.closed());
  Send(Stream(0, 7, "z"));  // Skips offsets 5 and 6.
  ASSERT_TRUE(events_.close.has_value());
  EXPECT_EQ(events_.close->code, kProtocolViolation);
}

TEST_F(HandPlayedServer, PeerResetIsReported) {
  Send(Stream(2, 0, "abc"));
  Send(ResetStreamFrame{2, 42, 3});
  EXPECT_EQ(events_.resets[2], 42u);
  EXPECT_EQ(ConnectionTestPeer::stream_count(server_), 0u);
  // Late bytes on the retired stream are ignored.
  Send(Stream(2, 3, "late"));
  EXPECT_FALSE(server_.closed());
  EXPECT_EQ(events_.data[2], "abc");
}

TEST_F(HandPlayedServer, ResetWithZeroFinalSizeIsTolerated) {
  // Earlier QMux drafts' implementations sent final size 0.
  Send(Stream(2, 0, "abc"));
  Send(ResetStreamFrame{2, 1, 0});
  EXPECT_FALSE(server_.closed());
  EXPECT_EQ(events_.resets[2], 1u);
}

TEST_F(HandPlayedServer, StopSendingResetsOurSideWithItsCode) {
  Send(Stream(0, 0, "req"));
  ASSERT_TRUE(server_.Write(0, "part", /*fin=*/false).ok());
  Sent();
  ASSERT_TRUE(server_.Write(0, "queued", /*fin=*/false).ok());
  Send(StopSendingFrame{0, 7});
  EXPECT_EQ(events_.stops[0], 7u);
  std::vector<Frame> sent = Sent();
  // The queued bytes were never handed out: the final size is what was.
  EXPECT_TRUE(FramesOf<StreamFrame>(sent).empty());
  EXPECT_THAT(FramesOf<ResetStreamFrame>(sent), testing::ElementsAre(ResetStreamFrame{0, 7, 4}));
  // Later writes are dropped without an error.
  EXPECT_TRUE(server_.Write(0, "more", true).ok());
  EXPECT_EQ(server_.queued_bytes(), 0u);
}

TEST_F(HandPlayedServer, ApplicationResetAndStopSendingSendFrames) {
  Send(Stream(0, 0, "req"));
  ASSERT_TRUE(server_.Write(0, "abcd", false).ok());
  server_.ResetStream(0, 5);
  server_.StopSending(0, 6);
  std::vector<Frame> sent = Sent();
  EXPECT_TRUE(FramesOf<StreamFrame>(sent).empty());
  EXPECT_THAT(FramesOf<ResetStreamFrame>(sent), testing::ElementsAre(ResetStreamFrame{0, 5, 0}));
  EXPECT_THAT(FramesOf<StopSendingFrame>(sent), testing::ElementsAre(StopSendingFrame{0, 6}));
  // Bytes after STOP_SENDING are not reported; the peer's reset ends it.
  Send(Stream(0, 3, "ignored"));
  EXPECT_EQ(events_.data[0], "req");
  Send(ResetStreamFrame{0, 6, 10});
  EXPECT_EQ(ConnectionTestPeer::stream_count(server_), 0u);
}

TEST(ConnectionStreamsTest, TenThousandStreamsKeepTheMapBounded) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  size_t peak = 0;
  int opened = 0;
  for (int round = 0; round < 1000 && opened < 10000; ++round) {
    while (opened < 10000) {
      auto id = pair.client().OpenStream(/*bidirectional=*/(opened % 2) == 0);
      if (!id.ok()) break;
      ASSERT_TRUE(pair.client().Write(*id, "payload", /*fin=*/true).ok());
      ++opened;
    }
    ASSERT_TRUE(pair.Pump());
    // The server answers and ends each bidirectional stream.
    for (uint64_t id : server_events.finished) {
      if (!IsUnidirectionalStream(id)) (void)pair.server().Write(id, "", /*fin=*/true);
    }
    server_events.finished.clear();
    peak = std::max(peak, ConnectionTestPeer::stream_count(pair.server()));
    ASSERT_TRUE(pair.Pump());
  }
  EXPECT_EQ(opened, 10000);
  EXPECT_EQ(server_events.opened.size(), 10000u);
  EXPECT_LE(peak, 200u);  // At most 100 of each kind at once.
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.server()), 0u);
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.client()), 0u);
}

TEST(ConnectionStreamsTest, CallbacksMayWriteResetAndOpen) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  // The server echoes each request, opens a uni stream per request, and
  // resets it at once.
  server_events.on_data = [&](uint64_t id, std::string_view data, bool fin) {
    ASSERT_TRUE(pair.server().Write(id, data, fin).ok());
    auto uni = pair.server().OpenStream(/*bidirectional=*/false);
    ASSERT_TRUE(uni.ok());
    pair.server().ResetStream(*uni, 3);
  };
  for (int i = 0; i < 5; ++i) {
    auto id = pair.client().OpenStream(/*bidirectional=*/true);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(pair.client().Write(*id, "echo" + std::to_string(i), /*fin=*/true).ok());
  }
  ASSERT_TRUE(pair.Pump());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client_events.data[4 * i], "echo" + std::to_string(i));
  EXPECT_EQ(client_events.resets.size(), 5u);
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.server()), 0u);
}

TEST_F(HandPlayedServer, CloseInsideACallbackStopsTheRecord) {
  events_.on_data = [&](uint64_t, std::string_view, bool) { server_.Close(9, "enough"); };
  server_.OnBytesReceived(
      EncodeRecord({Frame{Stream(0, 0, "one")}, Frame{Stream(4, 0, "two")}, Frame{Stream(8, 0, "three")}}));
  EXPECT_EQ(events_.closed_calls, 1);
  EXPECT_EQ(events_.data_calls, 1);
  EXPECT_TRUE(events_.close->application);
  EXPECT_EQ(ConnectionTestPeer::stream_count(server_), 0u);
  auto closes = FramesOf<ApplicationCloseFrame>(Sent());
  EXPECT_THAT(closes, testing::ElementsAre(ApplicationCloseFrame{9, "enough"}));
}

}  // namespace
}  // namespace moq_stats::qmux::test
