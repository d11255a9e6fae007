#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_WIRE_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_WIRE_H_

// Byte-level building blocks of the moq-lite wire format: QUIC variable-length
// integers (RFC 9000 section 16), raw u8 fields, strings (varint length then
// UTF-8 bytes) and length-prefixed messages. Sans-IO: bytes in, values out.
//
// A WireReader is a cursor over a borrowed buffer. It never allocates beyond
// the values it returns and never reads past the buffer. Not thread-safe; use
// one reader per thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/path.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::lite {

// The moq-lite error codes, as closed on the session or reset on a stream.
enum class ErrorCode : uint64_t {
  kCancel = 0,
  kRequiredExtension = 1,
  kOld = 2,
  kTimeout = 3,
  kTransport = 4,
  kDecode = 5,
  kUnauthorized = 6,
  kVersion = 9,
  kUnexpectedStream = 10,
  kBoundsExceeded = 11,
  kDuplicate = 12,
  kNotFound = 13,
  kWrongSize = 14,
  kProtocolViolation = 15,
  kUnexpectedMessage = 16,
  kUnsupported = 17,
  kEncode = 18,
  kTooManyParameters = 19,
  kInvalidRole = 20,
  kUnknownAlpn = 21,
  kDropped = 24,
  kClosed = 25,
  kLagged = 26,
  kFrameTooLarge = 27,
  kTimestampMismatch = 29,
  kUnroutable = 30,
  kEvicted = 31,
  kAppBase = 64,  // 64 + n: application error n.
};

// QUIC varints, as QMux encodes them (one implementation for both).
using qmux::AppendVarint;
using qmux::kMaxVarint;
inline size_t VarintSize(uint64_t value) { return qmux::VarintLength(value); }

// Appends a string: varint length, then the bytes.
void AppendString(std::string_view value, std::string* out);

// Broadcast paths travel as strings, normalized on both ends as
// moq_stats::Path does, with at most kMaxPathSegments (32) segments.
using moq_stats::IsValidUtf8;
using moq_stats::kMaxPathSegments;

// Zigzag mapping of signed to unsigned: 0->0, -1->1, 1->2, -2->3 ...
// ZigzagEncode returns false when `value` is outside [-2^61, 2^61) (the result
// would not fit a varint).
bool ZigzagEncode(int64_t value, uint64_t* out);
int64_t ZigzagDecode(uint64_t value);

enum class ReadStatus {
  kOk,        // Value read, cursor advanced.
  kNeedMore,  // The buffer ends inside the value; cursor unchanged.
  kError,     // The bytes are malformed; see WireReader::error().
};

class WireReader {
 public:
  // `data` must outlive the reader and every string_view it returns.
  explicit WireReader(std::string_view data) : data_(data) {}

  // A varint; non-minimal encodings are accepted, as RFC 9000 allows.
  ReadStatus ReadVarint(uint64_t* value);
  ReadStatus ReadU8(uint8_t* value);
  // Varint length + bytes, any content.
  ReadStatus ReadBytes(std::string_view* value);
  // Varint length + bytes, which must be UTF-8 (error otherwise).
  ReadStatus ReadString(std::string_view* value);
  // A message's varint length prefix, then that many bytes as `body`: kNeedMore
  // until the whole body is in the buffer.
  ReadStatus ReadLengthPrefixed(std::string_view* body);

  size_t consumed() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  // Why the last kError was returned.
  const std::string& error() const { return error_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace moq_stats::lite

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_WIRE_H_
