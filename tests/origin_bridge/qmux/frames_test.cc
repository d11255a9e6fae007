#include "origin_bridge/qmux/frames.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin_bridge/qmux/transport_params.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

struct WireImage {
  const char* name;
  std::string wire;
  Frame frame;
};

StreamFrame Stream(uint64_t id, uint64_t offset, std::string data, bool fin, bool has_offset, bool has_length) {
  StreamFrame f;
  f.stream_id = id;
  f.offset = offset;
  f.data = std::move(data);
  f.fin = fin;
  f.has_offset = has_offset;
  f.has_length = has_length;
  return f;
}

// The transport parameters frame of the test images: initial_max_data 1 MiB,
// initial_max_streams_uni 100, max_record_size 16382.
TransportParametersFrame ImageParams() {
  TransportParametersFrame f;
  f.parameters.push_back({kInitialMaxDataParam, Bytes({0x80, 0x10, 0x00, 0x00})});
  f.parameters.push_back({kInitialMaxStreamsUniParam, Bytes({0x40, 0x64})});
  f.parameters.push_back({kMaxRecordSizeParam, Bytes({0x7f, 0xfe})});
  return f;
}

// Wire images whose every frame carries its own length, so a prefix of the
// bytes is never a complete frame.
std::vector<WireImage> Images() {
  return {
      {"padding", Bytes({0x00}), PaddingFrame{}},
      {"stream_len", Bytes({0x0a, 0x04, 0x03, 'a', 'b', 'c'}), Stream(4, 0, "abc", false, false, true)},
      {"stream_len_fin", Bytes({0x0b, 0x06, 0x00}), Stream(6, 0, "", true, false, true)},
      {"stream_off_len_fin", Bytes({0x0f, 0x02, 0x40, 0x40, 0x02, 'h', 'i'}), Stream(2, 0x40, "hi", true, true, true)},
      {"stream_off_len_zero", Bytes({0x0e, 0x7f, 0xff, 0x00, 0x00}), Stream(0x3fff, 0, "", false, true, true)},
      {"reset_stream", Bytes({0x04, 0x02, 0x0d, 0x40, 0x40}), ResetStreamFrame{2, 13, 0x40}},
      {"stop_sending", Bytes({0x05, 0x03, 0x0d}), StopSendingFrame{3, 13}},
      {"max_data", Bytes({0x10, 0x80, 0x10, 0x00, 0x00}), MaxDataFrame{1 << 20}},
      {"max_stream_data", Bytes({0x11, 0x06, 0x80, 0x04, 0x00, 0x00}), MaxStreamDataFrame{6, 256 << 10}},
      {"max_streams_bidi", Bytes({0x12, 0x40, 0x64}), MaxStreamsFrame{false, 100}},
      {"max_streams_uni", Bytes({0x13, 0x40, 0x64}), MaxStreamsFrame{true, 100}},
      {"data_blocked", Bytes({0x14, 0x80, 0x00, 0x40, 0x00}), DataBlockedFrame{0x4000}},
      {"stream_data_blocked", Bytes({0x15, 0x02, 0x7f, 0xff}), StreamDataBlockedFrame{2, 0x3fff}},
      {"streams_blocked_bidi", Bytes({0x16, 0x3f}), StreamsBlockedFrame{false, 0x3f}},
      {"streams_blocked_uni", Bytes({0x17, 0x40, 0x40}), StreamsBlockedFrame{true, 0x40}},
      {"connection_close", Bytes({0x1c, 0x0a, 0x08, 0x03, 'b', 'a', 'd'}), ConnectionCloseFrame{0x0a, 0x08, "bad"}},
      {"application_close", Bytes({0x1d, 0x19, 0x04, 'd', 'o', 'n', 'e'}), ApplicationCloseFrame{25, "done"}},
      {"transport_parameters", Bytes({0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,  // type "\xffQMX\r\n\r\n"
                                      0x15,                                            // length 21
                                      0x04, 0x04, 0x80, 0x10, 0x00, 0x00,              // initial_max_data
                                      0x09, 0x02, 0x40, 0x64,                          // initial_max_streams_uni
                                      0xc5, 0x71, 0xc5, 0x94, 0x29, 0xcd, 0x08, 0x45,  // max_record_size id
                                      0x02, 0x7f, 0xfe}),                              // 16382
       ImageParams()},
      {"ping_request", Bytes({0xf4, 0x8c, 0x67, 0x52, 0x9e, 0xf8, 0xc7, 0xbd, 0x07}), PingFrame{false, 7}},
      {"ping_response", Bytes({0xf4, 0x8c, 0x67, 0x52, 0x9e, 0xf8, 0xc7, 0xbe, 0x07}), PingFrame{true, 7}},
  };
}

TEST(QmuxFramesTest, WireImagesParse) {
  for (const WireImage& image : Images()) {
    for (bool end_of_record : {false, true}) {
      Frame frame;
      size_t consumed = 0;
      ParseResult result = ParseFrame(image.wire, &frame, &consumed, end_of_record);
      ASSERT_TRUE(result.ok()) << image.name << ": " << result.reason;
      EXPECT_EQ(consumed, image.wire.size()) << image.name;
      EXPECT_TRUE(frame == image.frame) << image.name;
    }
  }
}

TEST(QmuxFramesTest, WireImagesEncode) {
  for (const WireImage& image : Images()) {
    std::string out;
    ASSERT_TRUE(AppendFrame(image.frame, &out).ok()) << image.name;
    EXPECT_EQ(out, image.wire) << image.name;
    EXPECT_EQ(FrameType(image.frame), ReadVarint(image.wire).value) << image.name;
  }
}

TEST(QmuxFramesTest, FedOneAndTwoBytesAtATime) {
  for (const WireImage& image : Images()) {
    for (size_t step : {1, 2}) {
      size_t have = 0;
      while (true) {
        have = std::min(have + step, image.wire.size());
        Frame frame;
        size_t consumed = 0;
        ParseResult result = ParseFrame(std::string_view(image.wire).substr(0, have), &frame, &consumed);
        if (have < image.wire.size()) {
          EXPECT_TRUE(result.need_more()) << image.name << " at " << have;
          continue;
        }
        ASSERT_TRUE(result.ok()) << image.name;
        EXPECT_TRUE(frame == image.frame) << image.name;
        break;
      }
    }
  }
}

TEST(QmuxFramesTest, TruncatedAtEndOfRecordIsFrameEncodingError) {
  for (const WireImage& image : Images()) {
    for (size_t n = 1; n < image.wire.size(); ++n) {
      Frame frame;
      size_t consumed = 0;
      ParseResult result = ParseFrame(std::string_view(image.wire).substr(0, n), &frame, &consumed, true);
      ASSERT_TRUE(result.error()) << image.name << " cut at " << n;
      EXPECT_EQ(result.error_code, kFrameEncodingError) << image.name;
    }
  }
}

TEST(QmuxFramesTest, TrailingBytesBelongToTheNextFrame) {
  const std::string wire = Bytes({0x05, 0x03, 0x0d, 0x10, 0x00});
  Frame frame;
  size_t consumed = 0;
  ASSERT_TRUE(ParseFrame(wire, &frame, &consumed).ok());
  EXPECT_EQ(consumed, 3u);
  EXPECT_TRUE(frame == Frame(StopSendingFrame{3, 13}));
}

TEST(QmuxFramesTest, StreamWithoutLengthRunsToEndOfRecord) {
  const std::string wire = Bytes({0x09, 0x04, 'x', 'y'});
  Frame frame;
  size_t consumed = 0;
  EXPECT_TRUE(ParseFrame(wire, &frame, &consumed, false).need_more());
  ASSERT_TRUE(ParseFrame(wire, &frame, &consumed, true).ok());
  EXPECT_EQ(consumed, 4u);
  EXPECT_TRUE(frame == Frame(Stream(4, 0, "xy", true, false, false)));
  std::string out;
  ASSERT_TRUE(AppendFrame(frame, &out).ok());
  EXPECT_EQ(out, wire);
  // STREAM with OFF but no LEN.
  const std::string with_off = Bytes({0x0c, 0x04, 0x05, 'z'});
  ASSERT_TRUE(ParseFrame(with_off, &frame, &consumed, true).ok());
  EXPECT_TRUE(frame == Frame(Stream(4, 5, "z", false, true, false)));
}

TEST(QmuxFramesTest, NonMinimalVarintsAreAccepted) {
  struct Case {
    std::string wire;
    Frame frame;
    std::string minimal;
  };
  const Case cases[] = {
      // RESET_STREAM, id 2 in two bytes, code 13 in four.
      {Bytes({0x04, 0x40, 0x02, 0x80, 0x00, 0x00, 0x0d, 0x40, 0x40}), ResetStreamFrame{2, 13, 0x40},
       Bytes({0x04, 0x02, 0x0d, 0x40, 0x40})},
      // MAX_DATA with its type in two bytes.
      {Bytes({0x40, 0x10, 0x3f}), MaxDataFrame{0x3f}, Bytes({0x10, 0x3f})},
      // STREAM with the length in eight bytes.
      {Bytes({0x0a, 0x00, 0xc0, 0, 0, 0, 0, 0, 0, 0x01, 'q'}), Stream(0, 0, "q", false, false, true),
       Bytes({0x0a, 0x00, 0x01, 'q'})},
  };
  for (const Case& c : cases) {
    Frame frame;
    size_t consumed = 0;
    ASSERT_TRUE(ParseFrame(c.wire, &frame, &consumed).ok());
    EXPECT_EQ(consumed, c.wire.size());
    EXPECT_TRUE(frame == c.frame);
    std::string out;
    ASSERT_TRUE(AppendFrame(frame, &out).ok());
    EXPECT_EQ(out, c.minimal);
  }
}

TEST(QmuxFramesTest, OversizedLengths) {
  const std::string cases[] = {
      // STREAM says 5 bytes, has 3.
      Bytes({0x0a, 0x04, 0x05, 'a', 'b', 'c'}),
      // CONNECTION_CLOSE reason says 0x3fff bytes.
      Bytes({0x1c, 0x00, 0x00, 0x7f, 0xff, 'x'}),
      // APPLICATION_CLOSE reason length 2^62-1.
      Bytes({0x1d, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
      // Transport parameters frame says 0x40 bytes, has 2.
      Bytes({0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x40, 0x40, 0x01, 0x00}),
  };
  for (const std::string& wire : cases) {
    Frame frame;
    size_t consumed = 0;
    EXPECT_TRUE(ParseFrame(wire, &frame, &consumed, false).need_more());
    ParseResult result = ParseFrame(wire, &frame, &consumed, true);
    ASSERT_TRUE(result.error());
    EXPECT_EQ(result.error_code, kFrameEncodingError) << result.reason;
  }
  // A parameter inside a complete transport parameters frame runs past it.
  const std::string inner = Bytes({0xff, 0x51, 0x53, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x03, 0x04, 0x05, 0x00});
  Frame frame;
  size_t consumed = 0;
  ParseResult result = ParseFrame(inner, &frame, &consumed);
  ASSERT_TRUE(result.error());
  EXPECT_EQ(result.error_code, kTransportParameterError);
}

TEST(QmuxFramesTest, UnknownFrameTypesAreFrameEncodingErrors) {
  // CRYPTO (0x06), NEW_TOKEN (0x07), HANDSHAKE_DONE (0x1e), QUIC PING (0x01),
  // DATAGRAM (0x30), and a large unassigned type.
  const std::string cases[] = {
      Bytes({0x06, 0x00, 0x00}),      Bytes({0x07}), Bytes({0x1e}), Bytes({0x01}), Bytes({0x30}),
      Bytes({0xbf, 0xff, 0xff, 0xff})};
  for (const std::string& wire : cases) {
    Frame frame;
    size_t consumed = 0;
    ParseResult result = ParseFrame(wire, &frame, &consumed);
    ASSERT_TRUE(result.error());
    EXPECT_EQ(result.error_code, kFrameEncodingError);
    EXPECT_FALSE(result.reason.empty());
  }
}

TEST(QmuxFramesTest, BoundaryValuesRoundTrip) {
  const uint64_t values[] = {0, 0x3f, 0x40, 0x3fff, 0x4000, 0x3fffffff, 0x40000000, kMaxVarint};
  for (uint64_t v : values) {
    const Frame frames[] = {MaxDataFrame{v}, ResetStreamFrame{v, v, v}, ConnectionCloseFrame{v, v, "r"},
                            PingFrame{true, v}, MaxStreamDataFrame{v, v}};
    for (const Frame& f : frames) {
      std::string wire;
      ASSERT_TRUE(AppendFrame(f, &wire).ok());
      Frame back;
      size_t consumed = 0;
      ASSERT_TRUE(ParseFrame(wire, &back, &consumed).ok()) << v;
      EXPECT_EQ(consumed, wire.size());
      EXPECT_TRUE(back == f) << v;
    }
  }
}

TEST(QmuxFramesTest, ValuesOutOfRange) {
  std::string out = "keep";
  EXPECT_FALSE(AppendFrame(MaxDataFrame{kMaxVarint + 1}, &out).ok());
  TransportParametersFrame params;
  params.parameters.push_back({kMaxVarint + 1, ""});
  EXPECT_FALSE(AppendFrame(params, &out).ok());
  EXPECT_EQ(out, "keep");

  // MAX_STREAMS may not exceed 2^60 (RFC 9000 19.11).
  std::string wire;
  ASSERT_TRUE(AppendFrame(MaxStreamsFrame{true, uint64_t{1} << 60}, &wire).ok());
  Frame frame;
  size_t consumed = 0;
  EXPECT_TRUE(ParseFrame(wire, &frame, &consumed).ok());
  wire.clear();
  ASSERT_TRUE(AppendFrame(StreamsBlockedFrame{false, (uint64_t{1} << 60) + 1}, &wire).ok());
  EXPECT_EQ(ParseFrame(wire, &frame, &consumed).error_code, kFrameEncodingError);

  // STREAM offset + length past 2^62-1.
  wire = Bytes({0x0e, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'});
  EXPECT_EQ(ParseFrame(wire, &frame, &consumed).error_code, kFrameEncodingError);
}

}  // namespace
}  // namespace moq_stats::qmux
