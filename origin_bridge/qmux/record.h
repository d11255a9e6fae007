#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_RECORD_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_RECORD_H_

// QMux draft-01 records: the unit frames travel in. Over WebSocket a record
// is one binary message; over plain TCP it is prefixed by its size as a
// varint. A frame never spans records. A record's size (without the TCP size
// prefix) must not exceed the receiver's max_record_size.
//
// Sans-IO and stateless: the caller buffers bytes and hands them in.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "origin_bridge/qmux/frames.h"
#include "origin_bridge/qmux/transport_params.h"

namespace moq_stats::qmux {

enum class RecordMode {
  kWebSocket,  // One binary message per record.
  kTcp,        // Varint size, then the record.
};

// Receives what ParseRecord finds. Not owned by ParseRecord.
class RecordVisitor {
 public:
  virtual ~RecordVisitor() = default;
  virtual void OnFrame(Frame frame) = 0;
  // Bad bytes from the peer: close the connection with `code`.
  virtual void OnParsingError(uint64_t code, std::string_view reason) = 0;
};

// Parses every frame in one complete record, in order, handing each to
// `visitor`; stops at the first error, which goes to OnParsingError and is
// returned. PADDING frames are skipped. Records larger than
// `max_record_size` (what we advertised) are refused with
// PROTOCOL_VIOLATION before any frame is parsed.
ParseResult ParseRecord(std::string_view record, uint64_t max_record_size, RecordVisitor* visitor);

// TCP mode: takes the first record off the front of `bytes` (the stream read
// so far). On kOk, `*record` points into `bytes` and `*consumed` counts the
// size prefix and the record. kNeedMore until the whole record is there; a
// declared size above `max_record_size` is PROTOCOL_VIOLATION at once.
ParseResult ReadTcpRecord(std::string_view bytes, uint64_t max_record_size, std::string_view* record, size_t* consumed);

// Packs `frames` into as few records as fit within `peer_max_record_size`,
// in order, appending one entry per record to `out`: the message to send
// (WebSocket) or the size-prefixed bytes (TCP). STREAM frames are always
// written with their length, and split into several STREAM frames (offsets
// advanced, FIN on the last) when one would not fit. Any other frame larger
// than the limit fails with InvalidArgument; so does a field above 2^62-1.
// On failure `out` is unchanged.
absl::Status BuildRecords(RecordMode mode, const std::vector<Frame>& frames, uint64_t peer_max_record_size,
                          std::vector<std::string>* out);

// The transport parameters this endpoint opens with: the defaults of
// DefaultTransportParameters, plus `alpns` as application_protocols in TCP
// mode only (over WebSocket the subprotocol carries the ALPN).
TransportParameters LocalTransportParameters(RecordMode mode, std::vector<std::string> alpns = {});

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_RECORD_H_
