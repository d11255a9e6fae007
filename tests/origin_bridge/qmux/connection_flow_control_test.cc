// qmux::Connection: data credit and stream-count credit, both ways.

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

uint64_t StreamBytes(const std::vector<Frame>& frames, uint64_t id) {
  uint64_t total = 0;
  for (const StreamFrame& f : FramesOf<StreamFrame>(frames)) {
    if (f.stream_id == id) total += f.data.size();
  }
  return total;
}

TEST(ConnectionFlowControlTest, SendingStopsAtThePeersConnectionCredit) {
  RecordingStreamEvents client_events, server_events;
  ConnectionOptions server = ConnectionPair::Options(Perspective::kServer);
  server.local.initial_max_data = 1000;
  ConnectionPair pair(ConnectionPair::Options(Perspective::kClient), &client_events, server, &server_events);
  ASSERT_TRUE(pair.Pump());
  auto id = pair.client().OpenStream(/*bidirectional=*/false);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair.client().Write(*id, std::string(5000, 'a'), /*fin=*/true).ok());
  EXPECT_EQ(pair.client().queued_bytes(), 5000u);
  std::vector<Frame> first = DecodeRecords(pair.client().TakeOutgoing());
  EXPECT_EQ(StreamBytes(first, *id), 1000u);
  EXPECT_THAT(FramesOf<DataBlockedFrame>(first), testing::ElementsAre(DataBlockedFrame{1000}));
  EXPECT_EQ(pair.client().queued_bytes(), 4000u);
  EXPECT_GE(pair.client().counters().blocked_on_credit, 1u);
  // The server returns credit as it delivers; everything arrives.
  for (const Frame& frame : first) pair.server().OnBytesReceived(EncodeRecord(frame));
  EXPECT_EQ(server_events.data[*id].size(), 1000u);
  ASSERT_TRUE(pair.Pump());
  EXPECT_TRUE(server_events.data[*id] == std::string(5000, 'a'));
  EXPECT_TRUE(server_events.finished.count(*id));
  EXPECT_EQ(pair.client().queued_bytes(), 0u);
}

TEST(ConnectionFlowControlTest, StreamCreditFollowsQuicRoles) {
  RecordingStreamEvents client_events, server_events;
  ConnectionOptions server = ConnectionPair::Options(Perspective::kServer);
  server.local.initial_max_stream_data_bidi_local = 300;
  server.local.initial_max_stream_data_bidi_remote = 200;
  server.local.initial_max_stream_data_uni = 100;
  ConnectionPair pair(ConnectionPair::Options(Perspective::kClient), &client_events, server, &server_events);
  ASSERT_TRUE(pair.Pump());
  const std::string big(1000, 'b');
  auto ours_bidi = pair.client().OpenStream(true);
  auto ours_uni = pair.client().OpenStream(false);
  auto theirs_bidi = pair.server().OpenStream(true);
  ASSERT_TRUE(ours_bidi.ok() && ours_uni.ok() && theirs_bidi.ok());
  ASSERT_TRUE(pair.server().Write(*theirs_bidi, "open", false).ok());
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.client().Write(*ours_bidi, big, false).ok());
  ASSERT_TRUE(pair.client().Write(*ours_uni, big, false).ok());
  ASSERT_TRUE(pair.client().Write(*theirs_bidi, big, false).ok());
  std::vector<Frame> sent = DecodeRecords(pair.client().TakeOutgoing());
  EXPECT_EQ(StreamBytes(sent, *ours_bidi), 200u);    // their bidi_remote
  EXPECT_EQ(StreamBytes(sent, *ours_uni), 100u);     // their uni
  EXPECT_EQ(StreamBytes(sent, *theirs_bidi), 300u);  // their bidi_local
  EXPECT_EQ(FramesOf<StreamDataBlockedFrame>(sent).size(), 3u);
}

TEST(ConnectionFlowControlTest, CreditIsReturnedAfterHalfTheWindow) {
  RecordingStreamEvents events;
  ConnectionOptions options = ConnectionPair::Options(Perspective::kServer);
  options.local.initial_max_data = 1000;
  options.local.initial_max_stream_data_uni = 1000;
  Connection server(options, &events);
  server.TakeOutgoing();
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2, 0, std::string(200, 'x'))}));
  EXPECT_FALSE(server.has_outgoing());  // 200 + 2*200 <= 1000
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2, 200, std::string(200, 'x'))}));
  std::vector<Frame> sent = DecodeRecords(server.TakeOutgoing());
  EXPECT_THAT(FramesOf<MaxDataFrame>(sent), testing::ElementsAre(MaxDataFrame{1400}));
  EXPECT_THAT(FramesOf<MaxStreamDataFrame>(sent), testing::ElementsAre(MaxStreamDataFrame{2, 1400}));
}

TEST(ConnectionFlowControlTest, StreamDataBeyondCreditIsFlowControlError) {
  RecordingStreamEvents events;
  ConnectionOptions options = ConnectionPair::Options(Perspective::kServer);
  options.local.initial_max_stream_data_uni = 100;
  Connection server(options, &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2, 0, std::string(101, 'x'))}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kFlowControlError);
}

TEST(ConnectionFlowControlTest, DataBeyondMaxDataIsFlowControlError) {
  RecordingStreamEvents events;
  ConnectionOptions options = ConnectionPair::Options(Perspective::kServer);
  options.local.initial_max_data = 150;
  options.local.initial_max_stream_data_uni = 1000;
  Connection server(options, &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2, 0, std::string(100, 'x'))}));
  EXPECT_FALSE(server.closed());
  // Delivering 100 bytes raised the limit to 250; 400 in all is beyond it.
  server.OnBytesReceived(EncodeRecord(Frame{Stream(6, 0, std::string(300, 'x'))}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kFlowControlError);
}

TEST(ConnectionFlowControlTest, ResetFinalSizeBeyondCreditIsFlowControlError) {
  RecordingStreamEvents events;
  ConnectionOptions options = ConnectionPair::Options(Perspective::kServer);
  options.local.initial_max_stream_data_uni = 100;
  Connection server(options, &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{ResetStreamFrame{2, 0, 101}}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kFlowControlError);
}

TEST(ConnectionFlowControlTest, InconsistentFinalSizeIsFinalSizeError) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(ParametersRecord());
  // A bidirectional stream stays live after its FIN while our side is open.
  server.OnBytesReceived(EncodeRecord(Frame{Stream(0, 0, "abc", /*fin=*/true)}));
  server.OnBytesReceived(EncodeRecord(Frame{Stream(0, 3, "d")}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kFinalSizeError);
}

TEST(ConnectionFlowControlTest, OpeningBeyondOurStreamLimitIsStreamLimitError) {
  RecordingStreamEvents events;
  ConnectionOptions options = ConnectionPair::Options(Perspective::kServer);
  options.local.initial_max_streams_uni = 3;
  Connection server(options, &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2 + 4 * 2, 0, "ok")}));  // index 2
  EXPECT_FALSE(server.closed());
  server.OnBytesReceived(EncodeRecord(Frame{Stream(2 + 4 * 3, 0, "no")}));  // index 3
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kStreamLimitError);
}

TEST(ConnectionFlowControlTest, StreamCountCreditComesBackAsStreamsFinish) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);  // 100 uni streams each way.
  ASSERT_TRUE(pair.Pump());
  int written = 0;
  int refused = 0;
  int first_refused_at = -1;
  client_events.on_credit = [&] {
    while (written < 250) {
      auto id = pair.client().OpenStream(/*bidirectional=*/false);
      if (!id.ok()) break;
      ASSERT_TRUE(pair.client().Write(*id, "g", /*fin=*/true).ok());
      ++written;
    }
  };
  while (written < 250) {
    auto id = pair.client().OpenStream(/*bidirectional=*/false);
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kResourceExhausted);
      if (first_refused_at < 0) first_refused_at = written;
      ++refused;
      break;
    }
    ASSERT_TRUE(pair.client().Write(*id, "g", /*fin=*/true).ok());
    ++written;
  }
  EXPECT_EQ(first_refused_at, 100);
  std::vector<Frame> first = DecodeRecords(pair.client().TakeOutgoing());
  EXPECT_THAT(FramesOf<StreamsBlockedFrame>(first),
              testing::ElementsAre(StreamsBlockedFrame{/*unidirectional=*/true, 100}));
  // Deliver the first flight by hand, then let the pair run.
  std::vector<std::string> again;
  for (const Frame& f : first) again.push_back(EncodeRecord(f));
  for (const std::string& r : again) pair.server().OnBytesReceived(r);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(written, 250);
  EXPECT_GE(client_events.credit_available, 1);
  EXPECT_EQ(server_events.finished.size(), 250u);
  EXPECT_EQ(ConnectionTestPeer::stream_count(pair.server()), 0u);
}

}  // namespace
}  // namespace moq_stats::qmux::test
