// qmux::Connection: closing by the application, by the peer, on protocol
// errors and when the transport goes away; what still works afterwards.

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

TEST(ConnectionCloseTest, ApplicationCloseReachesThePeer) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  auto id = pair.client().OpenStream(true);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair.client().Write(*id, "unsent", false).ok());
  pair.client().Close(0x10, "bye");
  ASSERT_EQ(client_events.closed_calls, 1);
  EXPECT_FALSE(client_events.close->by_peer);
  EXPECT_TRUE(client_events.close->application);
  EXPECT_EQ(client_events.close->code, 0x10u);
  EXPECT_EQ(pair.client().close_info()->reason, "bye");
  EXPECT_EQ(pair.client().queued_bytes(), 0u);
  // Only the close goes out: 0x1d, code, reason length, reason.
  EXPECT_THAT(pair.client().TakeOutgoing(), testing::ElementsAre(std::string("\x1d\x10\x03"
                                                                             "bye",
                                                                             6)));
  pair.client().Close(1, "again");  // No second close.
  EXPECT_FALSE(pair.client().has_outgoing());
  EXPECT_EQ(client_events.closed_calls, 1);
}

TEST(ConnectionCloseTest, PeerSeesApplicationClose) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  pair.client().Close(0x10, "bye");
  ASSERT_TRUE(pair.Pump());
  ASSERT_EQ(server_events.closed_calls, 1);
  EXPECT_TRUE(server_events.close->by_peer);
  EXPECT_TRUE(server_events.close->application);
  EXPECT_EQ(server_events.close->code, 0x10u);
  EXPECT_EQ(server_events.close->reason, "bye");
  EXPECT_TRUE(pair.server().closed());
  EXPECT_FALSE(pair.server().has_outgoing());
}

// A peer's reason goes to logs and status pages: kept printable and short.
TEST(ConnectionCloseTest, PeerReasonIsMadePrintableAndShort) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  pair.client().Close(0x10, "bad\n\xff" + std::string(1000, 'r'));
  ASSERT_TRUE(pair.Pump());
  ASSERT_EQ(server_events.closed_calls, 1);
  const std::string& reason = server_events.close->reason;
  EXPECT_EQ(reason.substr(0, 11), "bad\\x0a\\xff");
  EXPECT_LE(reason.size(), 256u);
  EXPECT_EQ(reason.substr(reason.size() - 3), "...");
}

TEST(ConnectionCloseTest, ProtocolErrorReachesThePeerAsConnectionClose) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  ASSERT_TRUE(pair.Pump());
  // The client claims a server stream that does not exist.
  pair.server().OnBytesReceived(EncodeRecord(Frame{MaxStreamDataFrame{1, 10}}));
  ASSERT_TRUE(server_events.close.has_value());
  EXPECT_FALSE(server_events.close->by_peer);
  EXPECT_FALSE(server_events.close->application);
  EXPECT_EQ(server_events.close->code, kStreamStateError);
  std::vector<std::string> out = pair.server().TakeOutgoing();
  auto closes = FramesOf<ConnectionCloseFrame>(DecodeRecords(out));
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].error_code, kStreamStateError);
  EXPECT_EQ(closes[0].frame_type, kMaxStreamDataFrameType);
  for (const std::string& record : out) pair.client().OnBytesReceived(record);
  ASSERT_TRUE(client_events.close.has_value());
  EXPECT_TRUE(client_events.close->by_peer);
  EXPECT_FALSE(client_events.close->application);
  EXPECT_EQ(client_events.close->code, kStreamStateError);
}

TEST(ConnectionCloseTest, NothingWorksAfterClose) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(0, 0, "a")}));
  server.Close(0, "");
  EXPECT_EQ(server.OpenStream(true).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.Write(0, "x", false).code(), absl::StatusCode::kFailedPrecondition);
  server.ResetStream(0, 1);
  server.StopSending(0, 1);
  const uint64_t received = server.counters().bytes_received;
  const std::string more = EncodeRecord(Frame{Stream(0, 1, "b")});
  server.OnBytesReceived(more);
  EXPECT_EQ(server.counters().bytes_received, received + more.size());
  EXPECT_EQ(events.data[0], "a");
  server.OnTransportClosed("eof");
  EXPECT_EQ(events.closed_calls, 1);
  EXPECT_EQ(ConnectionTestPeer::stream_count(server), 0u);
  // Our parameters were never taken: they still lead the close.
  std::vector<Frame> sent = DecodeRecords(server.TakeOutgoing());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<TransportParametersFrame>(sent[0]));
  EXPECT_TRUE(std::holds_alternative<ApplicationCloseFrame>(sent[1]));
}

TEST(ConnectionCloseTest, TransportClosedIsReportedAsByPeer) {
  RecordingStreamEvents events;
  Connection client(ConnectionPair::Options(Perspective::kClient), &events);
  client.OnTransportClosed("reset by peer");
  ASSERT_EQ(events.closed_calls, 1);
  EXPECT_TRUE(events.close->by_peer);
  EXPECT_FALSE(events.close->application);
  EXPECT_EQ(events.close->reason, "reset by peer");
  EXPECT_TRUE(client.closed());
  EXPECT_FALSE(client.has_outgoing());
}

TEST(ConnectionCloseTest, LongReasonIsCutOnTheWireButKeptLocally) {
  RecordingStreamEvents events;
  Connection client(ConnectionPair::Options(Perspective::kClient), &events);
  client.TakeOutgoing();
  const std::string reason(100000, 'r');
  client.Close(7, reason);
  EXPECT_EQ(client.close_info()->reason.size(), reason.size());
  auto closes = FramesOf<ApplicationCloseFrame>(DecodeRecords(client.TakeOutgoing()));
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_LT(closes[0].reason.size(), kDefaultMaxRecordSize);
}

TEST(ConnectionCloseTest, CloseFromOnClosedAndEventsReplacedAreSafe) {
  RecordingStreamEvents first, second;
  Connection server(ConnectionPair::Options(Perspective::kServer), &first);
  first.on_closed = [&](const CloseInfo&) {
    server.Close(1, "inside");
    server.set_events(&second);
  };
  server.OnBytesReceived(EncodeRecord(Frame{ApplicationCloseFrame{3, "peer"}}));
  EXPECT_EQ(first.closed_calls, 1);
  EXPECT_EQ(second.closed_calls, 0);
  EXPECT_EQ(first.close->code, 3u);
  EXPECT_TRUE(first.close->by_peer);
}

}  // namespace
}  // namespace moq_stats::qmux::test
