// qmux::Connection: the transport-parameter exchange, records, QX_PING and
// bad bytes before or around it.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/qmux/connection.h"
#include "tests/origin_bridge/qmux/test_tools/connection_pair.h"
#include "tests/origin_bridge/qmux/test_tools/recording_stream_events.h"
#include "tests/origin_bridge/qmux/test_tools/wire.h"

namespace moq_stats::qmux::test {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

ConnectionOptions Minimal(Perspective perspective, RecordMode mode) {
  ConnectionOptions options = ConnectionPair::Options(perspective, mode);
  options.local = TransportParameters{};  // Only max_record_size goes out.
  return options;
}

// QX_TRANSPORT_PARAMETERS carrying only max_record_size = 16382.
const std::string kMinimalParameters = Bytes({0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,  // type
                                              0x0b,                                            // length
                                              0xc5, 0x71, 0xc5, 0x94, 0x29, 0xcd, 0x08, 0x45,  // max_record_size id
                                              0x02, 0x7f, 0xfe});                              // 16382

TEST(ConnectionHandshakeTest, FirstRecordIsOurTransportParameters) {
  RecordingStreamEvents events;
  Connection connection(Minimal(Perspective::kClient, RecordMode::kWebSocket), &events);
  ASSERT_TRUE(connection.has_outgoing());
  EXPECT_THAT(connection.TakeOutgoing(), testing::ElementsAre(kMinimalParameters));
  EXPECT_FALSE(connection.has_outgoing());
  EXPECT_EQ(connection.counters().bytes_sent, kMinimalParameters.size());
}

TEST(ConnectionHandshakeTest, TcpRecordIsPrefixedWithItsSize) {
  RecordingStreamEvents events;
  Connection connection(Minimal(Perspective::kServer, RecordMode::kTcp), &events);
  EXPECT_THAT(connection.TakeOutgoing(), testing::ElementsAre(Bytes({0x14}) + kMinimalParameters));
}

TEST(ConnectionHandshakeTest, PairLearnsEachOthersParameters) {
  RecordingStreamEvents client_events, server_events;
  ConnectionOptions server = ConnectionPair::Options(Perspective::kServer);
  server.local.initial_max_data = 12345;
  server.local.max_record_size = 20000;
  ConnectionPair pair(ConnectionPair::Options(Perspective::kClient), &client_events, server, &server_events);
  EXPECT_FALSE(pair.client().peer_parameters().has_value());
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.client().peer_parameters().has_value());
  EXPECT_EQ(pair.client().peer_parameters()->initial_max_data, 12345u);
  EXPECT_EQ(pair.client().peer_parameters()->max_record_size, 20000u);
  EXPECT_EQ(pair.server().peer_parameters()->initial_max_data, DefaultTransportParameters().initial_max_data);
  EXPECT_FALSE(pair.client().closed());
  EXPECT_FALSE(pair.server().closed());
}

TEST(ConnectionHandshakeTest, TcpBytesFedOneAtATime) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events, RecordMode::kTcp);
  ASSERT_TRUE(pair.Pump());
  auto id = pair.client().OpenStream(/*bidirectional=*/false);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair.client().Write(*id, "split me", /*fin=*/true).ok());
  std::string all;
  for (const std::string& chunk : pair.client().TakeOutgoing()) all += chunk;
  for (char c : all) pair.server().OnBytesReceived(std::string(1, c));
  EXPECT_EQ(server_events.data[*id], "split me");
  EXPECT_TRUE(server_events.finished.count(*id));
}

TEST(ConnectionHandshakeTest, OpenBeforeParametersWaitsForCredit) {
  RecordingStreamEvents client_events, server_events;
  ConnectionPair pair(&client_events, &server_events);
  auto early = pair.client().OpenStream(/*bidirectional=*/true);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pair.client().counters().blocked_on_credit, 1u);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(client_events.credit_available, 1);
  EXPECT_TRUE(pair.client().OpenStream(/*bidirectional=*/true).ok());
}

TEST(ConnectionHandshakeTest, FrameBeforeParametersIsProtocolViolation) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(EncodeRecord(Frame{test::Stream(0, 0, "hi")}));
  ASSERT_TRUE(server.closed());
  ASSERT_EQ(events.closed_calls, 1);
  EXPECT_FALSE(events.close->by_peer);
  EXPECT_FALSE(events.close->application);
  EXPECT_EQ(events.close->code, kProtocolViolation);
  EXPECT_TRUE(events.opened.empty());
  // Our parameters still lead, then the close naming the STREAM frame.
  std::vector<Frame> sent = DecodeRecords(server.TakeOutgoing());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<TransportParametersFrame>(sent[0]));
  auto closes = FramesOf<ConnectionCloseFrame>(sent);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].error_code, kProtocolViolation);
  EXPECT_EQ(closes[0].frame_type, 0x0eu);  // STREAM with OFF and LEN.
}

TEST(ConnectionHandshakeTest, MalformedParametersAreTransportParameterError) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  TransportParametersFrame duplicate;
  duplicate.parameters.push_back({kInitialMaxDataParam, Bytes({0x01})});
  duplicate.parameters.push_back({kInitialMaxDataParam, Bytes({0x02})});
  server.OnBytesReceived(EncodeRecord(Frame{duplicate}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kTransportParameterError);
  EXPECT_FALSE(server.peer_parameters().has_value());
}

TEST(ConnectionHandshakeTest, RecordSizeBelowDefaultIsTransportParameterError) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  TransportParameters params = DefaultTransportParameters();
  params.max_record_size = 1000;
  server.OnBytesReceived(ParametersRecord(params));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kTransportParameterError);
}

TEST(ConnectionHandshakeTest, SecondParametersFrameIsProtocolViolation) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(ParametersRecord());
  EXPECT_FALSE(server.closed());
  server.OnBytesReceived(ParametersRecord());
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kProtocolViolation);
}

TEST(ConnectionHandshakeTest, PingIsAnsweredWithTheSameSequence) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.TakeOutgoing();
  server.OnBytesReceived(ParametersRecord());
  // PADDING, then QX_PING request 5.
  server.OnBytesReceived(Bytes({0x00, 0x00, 0xf4, 0x8c, 0x67, 0x52, 0x9e, 0xf8, 0xc7, 0xbd, 0x05}));
  EXPECT_FALSE(server.closed());
  EXPECT_THAT(server.TakeOutgoing(),
              testing::ElementsAre(Bytes({0xf4, 0x8c, 0x67, 0x52, 0x9e, 0xf8, 0xc7, 0xbe, 0x05})));
  EXPECT_EQ(server.counters().pings_answered, 1u);
  // A response needs no answer.
  server.OnBytesReceived(Bytes({0xf4, 0x8c, 0x67, 0x52, 0x9e, 0xf8, 0xc7, 0xbe, 0x05}));
  EXPECT_FALSE(server.has_outgoing());
}

TEST(ConnectionHandshakeTest, RecordAboveOurMaxRecordSizeIsRefused) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(ParametersRecord());
  server.OnBytesReceived(std::string(kDefaultMaxRecordSize + 1, '\0'));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kProtocolViolation);
}

TEST(ConnectionHandshakeTest, TcpRecordSizeAboveOursIsRefusedAtOnce) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer, RecordMode::kTcp), &events);
  // Size prefix 0x4000 (2 bytes 0x80 0x00 0x40 0x00 as a 4-byte varint).
  server.OnBytesReceived(Bytes({0x80, 0x00, 0x40, 0x00}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kProtocolViolation);
}

TEST(ConnectionHandshakeTest, TruncatedVarintIsFrameEncodingError) {
  RecordingStreamEvents events;
  Connection server(ConnectionPair::Options(Perspective::kServer), &events);
  server.OnBytesReceived(ParametersRecord());
  // MAX_DATA whose 4-byte varint is cut after two bytes.
  server.OnBytesReceived(Bytes({0x10, 0x80, 0x01}));
  ASSERT_TRUE(events.close.has_value());
  EXPECT_EQ(events.close->code, kFrameEncodingError);
}

TEST(ConnectionHandshakeTest, Draft00SendsOneFramePerMessage) {
  RecordingStreamEvents client_events, server_events;
  ConnectionOptions client = ConnectionPair::Options(Perspective::kClient);
  ConnectionOptions server = ConnectionPair::Options(Perspective::kServer);
  client.records = false;
  server.records = false;
  ConnectionPair pair(client, &client_events, server, &server_events);
  ASSERT_TRUE(pair.Pump());
  auto id = pair.client().OpenStream(/*bidirectional=*/false);
  ASSERT_TRUE(id.ok());
  const std::string payload(40000, 'x');
  ASSERT_TRUE(pair.client().Write(*id, payload, /*fin=*/true).ok());
  std::vector<std::string> messages = pair.client().TakeOutgoing();
  ASSERT_EQ(messages.size(), 3u);
  for (const std::string& message : messages) {
    EXPECT_LE(message.size(), 16384u);
    Frame frame;
    size_t consumed = 0;
    ASSERT_TRUE(ParseFrame(message, &frame, &consumed, /*end_of_record=*/true).ok());
    EXPECT_EQ(consumed, message.size());
  }
  for (const std::string& message : messages) pair.server().OnBytesReceived(message);
  EXPECT_EQ(server_events.data[*id], payload);
}

}  // namespace
}  // namespace moq_stats::qmux::test
