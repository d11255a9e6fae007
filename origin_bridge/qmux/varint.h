#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_VARINT_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_VARINT_H_

// QUIC variable-length integers (RFC 9000 section 16), as QMux uses them for
// every integer on the wire. The two high bits of the first byte give the
// length (1, 2, 4 or 8 bytes); the rest is the value, big-endian.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moq_stats::qmux {

// The largest value a varint can carry: 2^62 - 1.
inline constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

// Bytes of the minimal encoding of `value` (1, 2, 4 or 8), or 0 when `value`
// exceeds kMaxVarint.
size_t VarintLength(uint64_t value);

// Appends the minimal encoding of `value` to `out`. Returns false, appending
// nothing, when `value` exceeds kMaxVarint.
bool AppendVarint(uint64_t value, std::string* out);

// Appends `value` encoded in exactly `length` bytes (1, 2, 4 or 8), which may
// be longer than needed: for tests and wire images of non-minimal encodings.
// Returns false, appending nothing, if `value` does not fit in `length`.
bool AppendVarintWithLength(uint64_t value, size_t length, std::string* out);

// Result of decoding one varint from the front of a byte span.
struct VarintRead {
  // True when the span held the whole varint; false means "need more bytes".
  bool complete = false;
  uint64_t value = 0;
  // Bytes the varint occupies on the wire (its first byte says so, also when
  // the encoding is longer than minimal, which QUIC allows). Set even when
  // `complete` is false, as long as the span is not empty.
  size_t length = 0;
};

// Decodes a varint from the front of `bytes`. Never fails on well-formed
// prefixes: every first byte announces a valid length.
VarintRead ReadVarint(std::string_view bytes);

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_VARINT_H_
