#ifndef MOQ_STATS_ORIGIN_BRIDGE_STREAM_MUX_H_
#define MOQ_STATS_ORIGIN_BRIDGE_STREAM_MUX_H_

// The seam between a moq-lite session and the multiplexed transport under it
// (QMux here; QUIC would fit the same shape). The session asks for streams
// and writes through StreamMux; the transport reports what the peer did
// through StreamEvents. Both are sans-IO: calls only change state and queue
// bytes; the owner of the transport moves the bytes.
//
// Stream ids follow QUIC (RFC 9000 section 2.1): bit 0 is the initiator
// (0 client, 1 server), bit 1 the direction (0 bidirectional, 1
// unidirectional).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats {

inline bool IsUnidirectionalStream(uint64_t id) { return (id & 0x2) != 0; }
inline bool IsServerInitiatedStream(uint64_t id) { return (id & 0x1) != 0; }

// Why a connection ended.
struct CloseInfo {
  bool by_peer = false;      // The peer closed (or the transport under it failed).
  bool application = false;  // APPLICATION_CLOSE (moq-lite code) vs transport error.
  uint64_t code = 0;
  std::string reason;
};

// What the transport reports. Implemented by the session. Callbacks run on
// the transport owner's thread, from inside the StreamMux/transport call that
// caused them; they may call back into StreamMux.
class StreamEvents {
 public:
  virtual ~StreamEvents() = default;

  // The peer opened stream `id` (bidirectional or unidirectional by its id).
  // Called once, before the stream's first OnStreamData.
  virtual void OnStreamOpened(uint64_t id) = 0;

  // The next bytes the peer sent on `id`, in order, each byte once; `fin` on
  // the last call (possibly with empty `data`). Bytes handed over count as
  // consumed: the transport returns their flow-control credit.
  virtual void OnStreamData(uint64_t id, std::string_view data, bool fin) = 0;

  // The peer abandoned its sending side of `id` with `code`.
  virtual void OnStreamReset(uint64_t id, uint64_t code) = 0;

  // The peer no longer reads our sending side of `id`; the transport has
  // already reset it, further writes to it are dropped.
  virtual void OnStopSending(uint64_t id, uint64_t code) = 0;

  // The peer raised its stream-count credit: an OpenStream that failed with
  // RESOURCE_EXHAUSTED may now succeed.
  virtual void OnStreamCreditAvailable() = 0;

  // The connection ended, by either side. Called once; nothing follows.
  virtual void OnClosed(const CloseInfo& info) = 0;
};

// What the session asks of the transport. Not thread-safe: one thread (the
// transport owner's) calls it.
class StreamMux {
 public:
  virtual ~StreamMux() = default;

  // Opens a stream of ours. RESOURCE_EXHAUSTED while the peer's stream-count
  // credit is used up (StreamEvents::OnStreamCreditAvailable tells when to
  // retry); FAILED_PRECONDITION once the connection is closed.
  virtual absl::StatusOr<uint64_t> OpenStream(bool bidirectional) = 0;

  // Queues `data` on our sending side of `id`; `fin` ends it. Bytes go out as
  // the peer's flow control allows: a write is never refused for lack of
  // credit. FAILED_PRECONDITION for a stream we cannot send on (unknown,
  // finished, reset, the peer's unidirectional stream) or a closed
  // connection; writes to a stream the peer stopped are dropped silently.
  virtual absl::Status Write(uint64_t id, std::string_view data, bool fin) = 0;

  // Abandons our sending side of `id` (RESET_STREAM) with `code`; what was
  // queued and not sent is discarded. No-op if already finished or reset.
  virtual void ResetStream(uint64_t id, uint64_t code) = 0;

  // Asks the peer to stop sending on `id` (STOP_SENDING) with `code`; its
  // further bytes are discarded and not reported.
  virtual void StopSending(uint64_t id, uint64_t code) = 0;

  // Closes the connection with an application error (0 = no error).
  // StreamEvents::OnClosed follows with by_peer = false.
  virtual void Close(uint64_t code, std::string_view reason) = 0;

  // Bytes written and not yet sent, over all streams (for backpressure).
  virtual uint64_t queued_bytes() const = 0;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_ORIGIN_BRIDGE_STREAM_MUX_H_
