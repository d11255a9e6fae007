#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_STREAM_STATE_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_STREAM_STATE_H_

// What a QMux connection keeps for one live stream: its sending side (bytes
// queued and not yet framed, how far it has been sent, the peer's credit) and
// its receiving side (how far the peer has sent, our credit, the final size).
// A side the stream does not have (the peer's side of our unidirectional
// stream, or ours of theirs) starts out done. The stream is dropped once both
// sides are done.
//
// A plain value type; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "origin_bridge/qmux/internal/receive_window.h"

namespace moq_stats::qmux::internal {

inline constexpr uint64_t kNoLimitAnnounced = ~uint64_t{0};

struct StreamState {
  uint64_t id = 0;

  // Sending side.
  bool can_send = false;
  // FIN framed or RESET_STREAM queued (or no sending side at all).
  bool send_done = true;
  // The application asked for FIN; it goes out after the queued bytes.
  bool fin_queued = false;
  // Reset because the peer sent STOP_SENDING: later writes are dropped.
  bool stopped_by_peer = false;
  // Bytes written and not yet framed are send_buffer[send_buffer_pos...].
  std::string send_buffer;
  size_t send_buffer_pos = 0;
  // Bytes framed so far (the next frame's offset).
  uint64_t send_offset = 0;
  // The peer's limit on this stream's offset.
  uint64_t send_max = 0;
  // The limit last reported in STREAM_DATA_BLOCKED.
  uint64_t blocked_announced_at = kNoLimitAnnounced;

  // Receiving side.
  bool can_receive = false;
  // Every byte up to the final size arrived, or the peer reset it (or no
  // receiving side at all).
  bool receive_done = true;
  // We sent STOP_SENDING: bytes are still counted but not delivered.
  bool stop_sending_sent = false;
  // Bytes received so far, in order.
  uint64_t receive_offset = 0;
  std::optional<uint64_t> final_size;
  ReceiveWindow receive_window;

  size_t unframed_bytes() const { return send_buffer.size() - send_buffer_pos; }
  bool has_pending_send() const { return !send_done && (unframed_bytes() > 0 || fin_queued); }
};

}  // namespace moq_stats::qmux::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_STREAM_STATE_H_
