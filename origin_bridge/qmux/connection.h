#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_CONNECTION_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_CONNECTION_H_

// A QMux-01 connection as a sans-IO state machine: bytes from the peer go in
// (OnBytesReceived), records to send come out (TakeOutgoing), and the
// streams it carries are offered to a moq-lite session through StreamMux /
// StreamEvents. It never touches a socket or a clock.
//
// What it does:
// - sends our QX_TRANSPORT_PARAMETERS first and requires the peer's first;
// - STREAM, RESET_STREAM, STOP_SENDING, CONNECTION_CLOSE and
//   APPLICATION_CLOSE; answers every QX_PING request;
// - flow control both ways: it sends no more than the peer's connection and
//   stream data credit and opens no more streams than its stream-count credit
//   (queued bytes wait for MAX_DATA / MAX_STREAM_DATA, OpenStream fails until
//   MAX_STREAMS); it grants credit back as data is delivered and as the
//   peer's streams finish, and closes with FLOW_CONTROL_ERROR /
//   STREAM_LIMIT_ERROR when the peer sends beyond what we granted;
// - packs frames into records no larger than the peer's max_record_size and
//   refuses records larger than ours;
// - bad bytes close the connection with the QUIC transport error the parser
//   or the state machine names (CONNECTION_CLOSE), reported through
//   StreamEvents::OnClosed.
//
// Not thread-safe: one thread drives it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin_bridge/qmux/record.h"
#include "origin_bridge/qmux/transport_params.h"
#include "origin_bridge/stream_mux.h"

namespace moq_stats::qmux {

// QUIC transport error codes the connection closes with (RFC 9000 20.1).
inline constexpr uint64_t kNoError = 0x00;
inline constexpr uint64_t kInternalError = 0x01;
inline constexpr uint64_t kFlowControlError = 0x03;
inline constexpr uint64_t kStreamLimitError = 0x04;
inline constexpr uint64_t kStreamStateError = 0x05;
inline constexpr uint64_t kFinalSizeError = 0x06;

enum class Perspective { kClient, kServer };

struct ConnectionOptions {
  Perspective perspective = Perspective::kClient;
  RecordMode mode = RecordMode::kWebSocket;
  // What we advertise (credit, stream counts, record size, ALPNs on TCP).
  TransportParameters local = DefaultTransportParameters();
  // QMux draft-01 records (true) or draft-00 bare frames (false; WebSocket
  // only: each message carries one frame, no record size, no QX_PING).
  bool records = true;
};

// Totals for status pages.
struct ConnectionCounters {
  uint64_t bytes_sent = 0;      // record bytes handed out by TakeOutgoing
  uint64_t bytes_received = 0;  // bytes given to OnBytesReceived
  uint64_t streams_opened = 0;  // ours
  uint64_t peer_streams_opened = 0;
  uint64_t blocked_on_credit = 0;  // times a write or open waited for credit
  uint64_t pings_answered = 0;
};

class Connection : public StreamMux {
 public:
  // `events` is borrowed and must outlive the connection (or be replaced
  // with set_events before it goes). Queues our transport parameters.
  Connection(ConnectionOptions options, StreamEvents* events);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_events(StreamEvents* events);

  // Bytes read from the transport. WebSocket mode: exactly one binary
  // message (one record) per call. TCP mode: any slice of the byte stream.
  // May call StreamEvents (including OnClosed) before returning.
  void OnBytesReceived(std::string_view bytes);

  // The transport under the connection ended without a close frame (socket
  // error, EOF). Reports OnClosed(by_peer = true) unless already closed.
  void OnTransportClosed(std::string_view reason);

  // What to write to the transport now, in order: whole WebSocket messages,
  // or TCP byte chunks. Empty when nothing is waiting.
  std::vector<std::string> TakeOutgoing();
  bool has_outgoing() const;

  // The peer's transport parameters, once its first frame arrived.
  const std::optional<TransportParameters>& peer_parameters() const;

  bool closed() const;
  // Set once closed.
  const std::optional<CloseInfo>& close_info() const;

  const ConnectionCounters& counters() const;

  // StreamMux.
  absl::StatusOr<uint64_t> OpenStream(bool bidirectional) override;
  absl::Status Write(uint64_t id, std::string_view data, bool fin) override;
  void ResetStream(uint64_t id, uint64_t code) override;
  void StopSending(uint64_t id, uint64_t code) override;
  void Close(uint64_t code, std::string_view reason) override;
  uint64_t queued_bytes() const override;

 private:
  // Tests read internal sizes (the stream map) through this peer.
  friend class ConnectionTestPeer;

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_CONNECTION_H_
