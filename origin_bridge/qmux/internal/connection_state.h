#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_CONNECTION_STATE_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_CONNECTION_STATE_H_

// The insides of qmux::Connection, shared by its three source files:
// connection.cc (public calls, close, output), connection_receive.cc (bytes
// and frames from the peer) and connection_send.cc (writes, framing within
// credit, stream retirement).
//
// Re-entrancy: StreamEvents callbacks may call back into the connection.
// Callbacks are made only through the Emit* helpers, which count the nesting
// depth; stream entries are erased only by Settle at depth 0 (or all at once
// by a close), so a StreamState* held across a callback stays valid unless
// the connection closed, which every caller checks after a callback.
//
// Not thread-safe, like Connection.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/frames.h"
#include "origin_bridge/qmux/internal/receive_window.h"
#include "origin_bridge/qmux/internal/stream_state.h"

namespace moq_stats::qmux {

// Payload cap for one STREAM frame we send. Released QMux peers refuse larger
// STREAM payloads whatever the record size (16384 - 32).
inline constexpr size_t kMaxStreamFramePayload = 16352;
// Draft-00 bounds each WebSocket message (one frame) to this many bytes.
inline constexpr uint64_t kQmux00MaxFrameSize = 16384;
// Stream counts may not exceed 2^60 (RFC 9000 section 4.6).
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;
// Close reasons we send are cut to this many bytes so the frame fits a record.
inline constexpr size_t kMaxCloseReason = 1024;
// How many stopped-and-retired stream ids are remembered so that writes to
// them keep being dropped silently.
inline constexpr size_t kRememberedStoppedStreams = 1024;

struct Connection::State {
  State(ConnectionOptions options, StreamEvents* events);

  // --- constant after construction ---
  const ConnectionOptions options;
  const bool is_server;

  StreamEvents* events;

  // --- lifecycle ---
  bool closed = false;
  std::optional<CloseInfo> close_info;
  std::optional<TransportParameters> peer_parameters;
  ConnectionCounters counters;
  // Nesting depth of StreamEvents callbacks in progress.
  int callback_depth = 0;
  // True while OnBytesReceived is parsing.
  bool receiving = false;

  // --- input ---
  std::string tcp_buffer;
  // TCP bytes handed in by a callback while receiving; parsed afterwards.
  std::string reentrant_input;

  // --- output ---
  // Frames to send, in order; records are built by TakeOutgoing.
  std::vector<Frame> out_frames;
  // STREAM payload bytes in out_frames.
  uint64_t framed_bytes = 0;
  // Bytes in stream send buffers not yet framed.
  uint64_t unframed_bytes = 0;

  // --- streams ---
  std::unordered_map<uint64_t, internal::StreamState> streams;
  // Streams with bytes or a FIN waiting to be framed, by id.
  std::set<uint64_t> sendable;
  // Streams that may have become done on both sides.
  std::vector<uint64_t> retire_candidates;
  // Our streams the peer stopped that were then retired (bounded, FIFO).
  std::unordered_set<uint64_t> stopped_retired;
  std::deque<uint64_t> stopped_retired_order;

  // Index [0] bidirectional, [1] unidirectional.
  // Our streams: the next index to open, the peer's limit, whether an
  // OpenStream was refused since the limit last rose, the limit last reported
  // in STREAMS_BLOCKED.
  uint64_t local_next[2] = {0, 0};
  uint64_t local_max[2] = {0, 0};
  bool local_blocked[2] = {false, false};
  uint64_t streams_blocked_announced_at[2] = {internal::kNoLimitAnnounced, internal::kNoLimitAnnounced};
  // The peer's streams: how many indices it has opened (each one below is
  // live or retired), and the stream-count credit we grant.
  uint64_t peer_next[2] = {0, 0};
  internal::ReceiveWindow peer_stream_window[2];

  // --- connection flow control ---
  uint64_t send_data_max = 0;
  uint64_t send_data_used = 0;
  uint64_t data_blocked_announced_at = internal::kNoLimitAnnounced;
  internal::ReceiveWindow receive_data_window;

  // --- connection.cc ---
  // After a public call: frames queued stream data within credit (when
  // `frame`) and retires streams done both ways. No-op inside callbacks.
  void Settle(bool frame);
  void CloseWithError(uint64_t code, uint64_t frame_type, std::string_view reason);
  void CloseByApplication(uint64_t code, std::string_view reason);
  void ClosedByPeer(bool application, uint64_t code, std::string_view reason);
  // Drops every stream and every queued STREAM frame.
  void EnterClosed();
  std::vector<std::string> BuildOutgoing();

  void EmitOpened(uint64_t id);
  void EmitData(uint64_t id, std::string_view data, bool fin);
  void EmitReset(uint64_t id, uint64_t code);
  void EmitStopSending(uint64_t id, uint64_t code);
  void EmitCreditAvailable();
  void EmitClosed();

  // --- connection_receive.cc ---
  class Visitor;
  void Receive(std::string_view bytes);
  void ParseOne(std::string_view record);
  void HandleFrame(Frame frame);
  void HandleTransportParameters(const TransportParametersFrame& frame);
  void HandleStream(StreamFrame& frame);
  void HandleResetStream(const ResetStreamFrame& frame);
  void HandleStopSending(const StopSendingFrame& frame);
  void HandleMaxStreamData(const MaxStreamDataFrame& frame);
  void HandleMaxStreams(const MaxStreamsFrame& frame);
  // What a peer frame of `frame_type` on `id` refers to. Opens the peer's
  // streams up to `id` (announcing each) when it is new. nullptr when the
  // frame is to be ignored (a retired stream) or the connection closed (a
  // state or limit error, or a callback closed it): check `closed`.
  enum class Need { kReceive, kSend };
  internal::StreamState* StreamForPeerFrame(uint64_t id, uint64_t frame_type, Need need);

  // --- connection_send.cc ---
  absl::StatusOr<uint64_t> Open(bool bidirectional);
  absl::Status Write(uint64_t id, std::string_view data, bool fin);
  void Reset(uint64_t id, uint64_t code, bool by_peer_stop);
  void Stop(uint64_t id, uint64_t code);
  // Frames queued stream bytes within the peer's credit, round-robin.
  void FrameStreamData();
  // Removes STREAM frames of `id` still in out_frames; returns their bytes.
  uint64_t UnframeStream(uint64_t id);
  void MarkSendable(const internal::StreamState& stream);
  void RetireDoneStreams();
  void QueueFrame(Frame frame) { out_frames.push_back(std::move(frame)); }

  bool IsLocal(uint64_t id) const { return IsServerInitiatedStream(id) == is_server; }
};

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_CONNECTION_STATE_H_
