#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_FRAMES_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_FRAMES_H_

// QMux frames (draft-01): the QUIC v1 frames that QMux keeps (RFC 9000
// section 19) plus QX_TRANSPORT_PARAMETERS and QX_PING. Plain structs, an
// encoder and a stateless parser; no I/O, no clock.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "absl/status/status.h"

namespace moq_stats::qmux {

// Frame type codes on the wire.
inline constexpr uint64_t kPaddingFrameType = 0x00;
inline constexpr uint64_t kResetStreamFrameType = 0x04;
inline constexpr uint64_t kStopSendingFrameType = 0x05;
// STREAM is 0x08 | OFF (0x04) | LEN (0x02) | FIN (0x01).
inline constexpr uint64_t kStreamFrameTypeBase = 0x08;
inline constexpr uint64_t kStreamOffBit = 0x04;
inline constexpr uint64_t kStreamLenBit = 0x02;
inline constexpr uint64_t kStreamFinBit = 0x01;
inline constexpr uint64_t kMaxDataFrameType = 0x10;
inline constexpr uint64_t kMaxStreamDataFrameType = 0x11;
inline constexpr uint64_t kMaxStreamsBidiFrameType = 0x12;
inline constexpr uint64_t kMaxStreamsUniFrameType = 0x13;
inline constexpr uint64_t kDataBlockedFrameType = 0x14;
inline constexpr uint64_t kStreamDataBlockedFrameType = 0x15;
inline constexpr uint64_t kStreamsBlockedBidiFrameType = 0x16;
inline constexpr uint64_t kStreamsBlockedUniFrameType = 0x17;
inline constexpr uint64_t kConnectionCloseFrameType = 0x1c;
inline constexpr uint64_t kApplicationCloseFrameType = 0x1d;
// "\xffQS0\r\n\r\n" (ff 51 53 30 0d 0a 0d 0a) read as an 8-byte varint.
inline constexpr uint64_t kTransportParametersFrameType = 0x3f5153300d0a0d0a;
inline constexpr uint64_t kPingRequestFrameType = 0x348c67529ef8c7bd;
inline constexpr uint64_t kPingResponseFrameType = 0x348c67529ef8c7be;

// QUIC transport error codes (RFC 9000 section 20.1) the parser reports.
inline constexpr uint64_t kFrameEncodingError = 0x07;
inline constexpr uint64_t kTransportParameterError = 0x08;
inline constexpr uint64_t kProtocolViolation = 0x0a;

// PADDING: one zero byte, ignored by receivers.
struct PaddingFrame {
  friend bool operator==(const PaddingFrame&, const PaddingFrame&) { return true; }
};

// STREAM (0x08-0x0f). On encode, the offset is written when `has_offset` is
// set or `offset` is not 0, the length when `has_length` is set; a STREAM
// frame without a length runs to the end of its record.
struct StreamFrame {
  uint64_t stream_id = 0;
  uint64_t offset = 0;
  std::string data;
  bool fin = false;
  bool has_offset = false;
  bool has_length = true;

  friend bool operator==(const StreamFrame& a, const StreamFrame& b) {
    return std::tie(a.stream_id, a.offset, a.data, a.fin, a.has_offset, a.has_length) ==
           std::tie(b.stream_id, b.offset, b.data, b.fin, b.has_offset, b.has_length);
  }
};

// RESET_STREAM (0x04).
struct ResetStreamFrame {
  uint64_t stream_id = 0;
  uint64_t error_code = 0;
  uint64_t final_size = 0;

  friend bool operator==(const ResetStreamFrame& a, const ResetStreamFrame& b) {
    return std::tie(a.stream_id, a.error_code, a.final_size) == std::tie(b.stream_id, b.error_code, b.final_size);
  }
};

// STOP_SENDING (0x05).
struct StopSendingFrame {
  uint64_t stream_id = 0;
  uint64_t error_code = 0;

  friend bool operator==(const StopSendingFrame& a, const StopSendingFrame& b) {
    return std::tie(a.stream_id, a.error_code) == std::tie(b.stream_id, b.error_code);
  }
};

// MAX_DATA (0x10).
struct MaxDataFrame {
  uint64_t maximum_data = 0;

  friend bool operator==(const MaxDataFrame& a, const MaxDataFrame& b) { return a.maximum_data == b.maximum_data; }
};

// MAX_STREAM_DATA (0x11).
struct MaxStreamDataFrame {
  uint64_t stream_id = 0;
  uint64_t maximum_stream_data = 0;

  friend bool operator==(const MaxStreamDataFrame& a, const MaxStreamDataFrame& b) {
    return std::tie(a.stream_id, a.maximum_stream_data) == std::tie(b.stream_id, b.maximum_stream_data);
  }
};

// MAX_STREAMS (0x12 bidirectional, 0x13 unidirectional).
struct MaxStreamsFrame {
  bool unidirectional = false;
  uint64_t maximum_streams = 0;

  friend bool operator==(const MaxStreamsFrame& a, const MaxStreamsFrame& b) {
    return std::tie(a.unidirectional, a.maximum_streams) == std::tie(b.unidirectional, b.maximum_streams);
  }
};

// DATA_BLOCKED (0x14).
struct DataBlockedFrame {
  uint64_t maximum_data = 0;

  friend bool operator==(const DataBlockedFrame& a, const DataBlockedFrame& b) {
    return a.maximum_data == b.maximum_data;
  }
};

// STREAM_DATA_BLOCKED (0x15).
struct StreamDataBlockedFrame {
  uint64_t stream_id = 0;
  uint64_t maximum_stream_data = 0;

  friend bool operator==(const StreamDataBlockedFrame& a, const StreamDataBlockedFrame& b) {
    return std::tie(a.stream_id, a.maximum_stream_data) == std::tie(b.stream_id, b.maximum_stream_data);
  }
};

// STREAMS_BLOCKED (0x16 bidirectional, 0x17 unidirectional).
struct StreamsBlockedFrame {
  bool unidirectional = false;
  uint64_t maximum_streams = 0;

  friend bool operator==(const StreamsBlockedFrame& a, const StreamsBlockedFrame& b) {
    return std::tie(a.unidirectional, a.maximum_streams) == std::tie(b.unidirectional, b.maximum_streams);
  }
};

// CONNECTION_CLOSE (0x1c): a transport error; carries the type of the frame
// that caused it (0 when unknown).
struct ConnectionCloseFrame {
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  std::string reason;

  friend bool operator==(const ConnectionCloseFrame& a, const ConnectionCloseFrame& b) {
    return std::tie(a.error_code, a.frame_type, a.reason) == std::tie(b.error_code, b.frame_type, b.reason);
  }
};

// APPLICATION_CLOSE (0x1d): the application closes; no frame type field.
struct ApplicationCloseFrame {
  uint64_t error_code = 0;
  std::string reason;

  friend bool operator==(const ApplicationCloseFrame& a, const ApplicationCloseFrame& b) {
    return std::tie(a.error_code, a.reason) == std::tie(b.error_code, b.reason);
  }
};

// One transport parameter as it is on the wire: id and raw value bytes.
struct TransportParameter {
  uint64_t id = 0;
  std::string value;

  friend bool operator==(const TransportParameter& a, const TransportParameter& b) {
    return std::tie(a.id, a.value) == std::tie(b.id, b.value);
  }
};

// QX_TRANSPORT_PARAMETERS: the first frame each side sends. Parameters are
// kept in wire order, unknown ids included; transport_params.h gives them
// meaning.
struct TransportParametersFrame {
  std::vector<TransportParameter> parameters;

  friend bool operator==(const TransportParametersFrame& a, const TransportParametersFrame& b) {
    return a.parameters == b.parameters;
  }
};

// QX_PING request or response; a request must be answered with a response
// carrying the same sequence number.
struct PingFrame {
  bool response = false;
  uint64_t sequence = 0;

  friend bool operator==(const PingFrame& a, const PingFrame& b) {
    return std::tie(a.response, a.sequence) == std::tie(b.response, b.sequence);
  }
};

using Frame =
    std::variant<PaddingFrame, StreamFrame, ResetStreamFrame, StopSendingFrame, MaxDataFrame, MaxStreamDataFrame,
                 MaxStreamsFrame, DataBlockedFrame, StreamDataBlockedFrame, StreamsBlockedFrame, ConnectionCloseFrame,
                 ApplicationCloseFrame, TransportParametersFrame, PingFrame>;

// The wire type code `frame` is encoded with.
uint64_t FrameType(const Frame& frame);

// Appends the encoding of `frame` to `out`. Fails with InvalidArgument,
// leaving `out` unchanged, when a field exceeds kMaxVarint.
absl::Status AppendFrame(const Frame& frame, std::string* out);

// Outcome of parsing.
struct ParseResult {
  enum class Kind { kOk, kNeedMore, kError };
  Kind kind = Kind::kOk;
  // QUIC transport error code and reason, when kind is kError.
  uint64_t error_code = 0;
  std::string reason;

  static ParseResult Ok() { return {}; }
  static ParseResult NeedMore() { return {Kind::kNeedMore, 0, {}}; }
  static ParseResult Error(uint64_t code, std::string reason) { return {Kind::kError, code, std::move(reason)}; }
  bool ok() const { return kind == Kind::kOk; }
  bool need_more() const { return kind == Kind::kNeedMore; }
  bool error() const { return kind == Kind::kError; }
};

// Parses one frame from the front of `bytes`. Stateless.
//
// When `end_of_record` is false, `bytes` may be a prefix of what is to come:
// a frame cut short gives kNeedMore, as does a STREAM frame without a length
// (it runs to the end of the record, which is not known yet). When it is
// true, `bytes` runs to the end of the record: a cut-short frame or a length
// past the end is a FRAME_ENCODING_ERROR.
//
// On kOk, `*out` holds the frame and `*consumed` its size in bytes; on other
// results both are left unchanged.
ParseResult ParseFrame(std::string_view bytes, Frame* out, size_t* consumed, bool end_of_record = false);

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_FRAMES_H_
