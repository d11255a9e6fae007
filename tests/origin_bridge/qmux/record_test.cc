#include "origin_bridge/qmux/record.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

class CollectingVisitor : public RecordVisitor {
 public:
  void OnFrame(Frame frame) override { frames.push_back(std::move(frame)); }
  void OnParsingError(uint64_t code, std::string_view reason) override {
    error_code = code;
    error_reason = std::string(reason);
    ++errors;
  }

  std::vector<Frame> frames;
  uint64_t error_code = 0;
  std::string error_reason;
  int errors = 0;
};

StreamFrame Stream(uint64_t id, std::string data, bool fin) {
  StreamFrame f;
  f.stream_id = id;
  f.data = std::move(data);
  f.fin = fin;
  return f;
}

// One WebSocket message: transport parameters (max_record_size 16382 only),
// PADDING, MAX_DATA 1 MiB, STREAM id 2 "01" FIN without a length (last).
const std::string kWsRecord = Bytes({
    0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x0b,  // QX_TRANSPORT_PARAMETERS, 11 bytes
    0xc5, 0x71, 0xc5, 0x94, 0x29, 0xcd, 0x08, 0x45, 0x02, 0x7f, 0xfe,
    0x00,                          // PADDING
    0x10, 0x80, 0x10, 0x00, 0x00,  // MAX_DATA
    0x09, 0x02, 0x30, 0x31,        // STREAM FIN, no LEN
});

TEST(QmuxRecordTest, WebSocketRecordWithSeveralFrames) {
  CollectingVisitor visitor;
  ASSERT_TRUE(ParseRecord(kWsRecord, kDefaultMaxRecordSize, &visitor).ok());
  EXPECT_EQ(visitor.errors, 0);
  ASSERT_EQ(visitor.frames.size(), 3u);
  TransportParametersFrame params;
  params.parameters.push_back({kMaxRecordSizeParam, Bytes({0x7f, 0xfe})});
  EXPECT_TRUE(visitor.frames[0] == Frame(params));
  EXPECT_TRUE(visitor.frames[1] == Frame(MaxDataFrame{1 << 20}));
  StreamFrame stream = Stream(2, "01", true);
  stream.has_length = false;
  EXPECT_TRUE(visitor.frames[2] == Frame(stream));
}

TEST(QmuxRecordTest, FrameSpanningRecordsIsRefused) {
  // MAX_STREAM_DATA 6 / 256 KiB cut after its third byte.
  const std::string frame = Bytes({0x11, 0x06, 0x80, 0x04, 0x00, 0x00});
  const std::string first = Bytes({0x12, 0x40, 0x64}) + frame.substr(0, 3);
  const std::string second = frame.substr(3);

  CollectingVisitor visitor;
  ParseResult result = ParseRecord(first, kDefaultMaxRecordSize, &visitor);
  ASSERT_TRUE(result.error());
  EXPECT_EQ(result.error_code, kFrameEncodingError);
  EXPECT_EQ(visitor.errors, 1);
  EXPECT_EQ(visitor.error_code, kFrameEncodingError);
  ASSERT_EQ(visitor.frames.size(), 1u);  // The whole frame before the cut.

  CollectingVisitor visitor2;
  EXPECT_TRUE(ParseRecord(second, kDefaultMaxRecordSize, &visitor2).error());
  EXPECT_EQ(visitor2.errors, 1);

  // A length that runs past the end of the record.
  CollectingVisitor visitor3;
  result = ParseRecord(Bytes({0x0a, 0x02, 0x05, 'a'}), kDefaultMaxRecordSize, &visitor3);
  EXPECT_EQ(result.error_code, kFrameEncodingError);
}

TEST(QmuxRecordTest, RecordAboveOurLimitIsRefused) {
  CollectingVisitor visitor;
  ParseResult result = ParseRecord(kWsRecord, kWsRecord.size() - 1, &visitor);
  ASSERT_TRUE(result.error());
  EXPECT_EQ(result.error_code, kProtocolViolation);
  EXPECT_TRUE(visitor.frames.empty());
  EXPECT_TRUE(ParseRecord(kWsRecord, kWsRecord.size(), &visitor).ok());
}

TEST(QmuxRecordTest, EmptyRecordHasNoFrames) {
  CollectingVisitor visitor;
  EXPECT_TRUE(ParseRecord("", kDefaultMaxRecordSize, &visitor).ok());
  EXPECT_TRUE(visitor.frames.empty());
}

TEST(QmuxRecordTest, TcpRecordsFedOneByteAtATime) {
  // Two records: [3] STOP_SENDING 3/13, [2] MAX_STREAMS uni 0x3f + PADDING.
  const std::string stream = Bytes({0x03, 0x05, 0x03, 0x0d, 0x02, 0x13, 0x3f});
  std::vector<std::string> records;
  std::string buffer;
  for (char c : stream) {
    buffer.push_back(c);
    while (true) {
      std::string_view record;
      size_t consumed = 0;
      ParseResult result = ReadTcpRecord(buffer, kDefaultMaxRecordSize, &record, &consumed);
      ASSERT_FALSE(result.error());
      if (result.need_more()) break;
      records.emplace_back(record);
      buffer.erase(0, consumed);
    }
  }
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(records.size(), 2u);
  CollectingVisitor visitor;
  for (const std::string& r : records) ASSERT_TRUE(ParseRecord(r, 3, &visitor).ok());
  ASSERT_EQ(visitor.frames.size(), 2u);
  EXPECT_TRUE(visitor.frames[0] == Frame(StopSendingFrame{3, 13}));
  EXPECT_TRUE(visitor.frames[1] == Frame(MaxStreamsFrame{true, 0x3f}));
}

TEST(QmuxRecordTest, TcpSizeAboveLimitIsRefusedBeforeTheBody) {
  // Declares 16383 bytes (one above the default), none of which has arrived.
  std::string_view record;
  size_t consumed = 0;
  ParseResult result = ReadTcpRecord(Bytes({0x7f, 0xff}), kDefaultMaxRecordSize, &record, &consumed);
  ASSERT_TRUE(result.error());
  EXPECT_EQ(result.error_code, kProtocolViolation);
  EXPECT_TRUE(ReadTcpRecord(Bytes({0x7f, 0xfe}), kDefaultMaxRecordSize, &record, &consumed).need_more());
  // Non-minimal size prefix: 2 in eight bytes.
  const std::string framed = Bytes({0xc0, 0, 0, 0, 0, 0, 0, 0x02, 0x14, 0x00});
  ASSERT_TRUE(ReadTcpRecord(framed, kDefaultMaxRecordSize, &record, &consumed).ok());
  EXPECT_EQ(consumed, framed.size());
  EXPECT_EQ(record, Bytes({0x14, 0x00}));
}

TEST(QmuxRecordTest, BuildPacksSmallFramesIntoOneRecord) {
  const std::vector<Frame> frames = {MaxDataFrame{1 << 20}, StopSendingFrame{3, 13}, Stream(2, "hi", true)};
  std::vector<std::string> ws;
  ASSERT_TRUE(BuildRecords(RecordMode::kWebSocket, frames, kDefaultMaxRecordSize, &ws).ok());
  const std::string expected = Bytes({0x10, 0x80, 0x10, 0x00, 0x00, 0x05, 0x03, 0x0d, 0x0b, 0x02, 0x02, 'h', 'i'});
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0], expected);

  std::vector<std::string> tcp;
  ASSERT_TRUE(BuildRecords(RecordMode::kTcp, frames, kDefaultMaxRecordSize, &tcp).ok());
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_EQ(tcp[0], Bytes({0x0d}) + expected);
}

TEST(QmuxRecordTest, BuildStartsANewRecordAtTheLimit) {
  // Each MAX_DATA 1 MiB is 5 bytes; a limit of 12 fits two per record.
  const std::vector<Frame> frames(5, MaxDataFrame{1 << 20});
  std::vector<std::string> ws;
  ASSERT_TRUE(BuildRecords(RecordMode::kWebSocket, frames, 12, &ws).ok());
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].size(), 10u);
  EXPECT_EQ(ws[1].size(), 10u);
  EXPECT_EQ(ws[2].size(), 5u);
}

TEST(QmuxRecordTest, BuildSplitsLargeStreamFrames) {
  for (RecordMode mode : {RecordMode::kWebSocket, RecordMode::kTcp}) {
    for (uint64_t limit : {uint64_t{16}, uint64_t{100}, kDefaultMaxRecordSize}) {
      std::string payload(40000, '\0');
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
      StreamFrame big = Stream(0x3fff, payload, true);
      big.offset = 1000;
      std::vector<std::string> out;
      ASSERT_TRUE(BuildRecords(mode, {big, MaxDataFrame{7}}, limit, &out).ok());
      ASSERT_GT(out.size(), 1u);

      std::string data;
      uint64_t next_offset = 1000;
      int fins = 0;
      bool saw_max_data = false;
      for (const std::string& message : out) {
        std::string_view record = message;
        if (mode == RecordMode::kTcp) {
          size_t consumed = 0;
          ASSERT_TRUE(ReadTcpRecord(message, limit, &record, &consumed).ok());
          EXPECT_EQ(consumed, message.size());
        }
        EXPECT_LE(record.size(), limit);
        CollectingVisitor visitor;
        ASSERT_TRUE(ParseRecord(record, limit, &visitor).ok()) << visitor.error_reason;
        for (const Frame& f : visitor.frames) {
          if (const auto* s = std::get_if<StreamFrame>(&f)) {
            EXPECT_FALSE(saw_max_data);
            EXPECT_EQ(s->stream_id, 0x3fffu);
            EXPECT_EQ(s->offset, next_offset);
            next_offset += s->data.size();
            data += s->data;
            fins += s->fin ? 1 : 0;
            if (s->fin) {
              EXPECT_EQ(next_offset, 1000 + payload.size());
            }
          } else {
            EXPECT_TRUE(f == Frame(MaxDataFrame{7}));
            saw_max_data = true;
          }
        }
      }
      EXPECT_EQ(data, payload);
      EXPECT_EQ(fins, 1);
      EXPECT_TRUE(saw_max_data);
    }
  }
}

TEST(QmuxRecordTest, BuildRefusesFramesLargerThanTheLimit) {
  std::vector<std::string> out = {"keep"};
  ConnectionCloseFrame close{0x0a, 0, std::string(100, 'r')};
  absl::Status status = BuildRecords(RecordMode::kWebSocket, {MaxDataFrame{1}, close}, 64, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  // A limit too small for any STREAM payload.
  status = BuildRecords(RecordMode::kTcp, {Stream(0x3fff, "abc", false)}, 4, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  // An empty FIN that does not fit is refused, not dropped.
  status = BuildRecords(RecordMode::kTcp, {Stream(0x3fff, "", true)}, 3, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, std::vector<std::string>{"keep"});
}

TEST(QmuxRecordTest, LocalTransportParameters) {
  const TransportParameters tcp = LocalTransportParameters(RecordMode::kTcp, {"moq-lite-05"});
  EXPECT_EQ(tcp.application_protocols, std::vector<std::string>{"moq-lite-05"});
  EXPECT_EQ(tcp.max_record_size, 16382u);
  EXPECT_EQ(tcp.initial_max_data, 1u << 20);
  EXPECT_EQ(tcp.initial_max_stream_data_uni, 256u << 10);
  EXPECT_EQ(tcp.initial_max_streams_uni, 100u);
  const TransportParameters ws = LocalTransportParameters(RecordMode::kWebSocket, {"moq-lite-05"});
  EXPECT_TRUE(ws.application_protocols.empty());

  // The first record of a WebSocket session: the parameters frame alone.
  std::vector<std::string> out;
  ASSERT_TRUE(BuildRecords(RecordMode::kWebSocket, {ToFrame(ws)}, kDefaultMaxRecordSize, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].substr(0, 8), Bytes({0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a}));
}

}  // namespace
}  // namespace moq_stats::qmux
