#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SESSION_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SESSION_H_

// One live moq-lite session of the bridge: a connected Transport, the QMux
// Connection over it (client perspective when we dialled, server when we
// accepted) and the PublisherSession serving the origin through it.
//
// The session moves bytes both ways: what the transport reads goes into the
// connection, and whatever the connection has to send afterwards is handed
// to the transport. The publisher's `wake` (called from the origin's writer
// threads) posts one coalesced Poll to the io_context however often it is
// called; a wake arriving after the session is gone does nothing.
//
// The moq-lite version comes from the WebSocket subprotocol, or on plain TCP
// from the QMux application_protocols transport parameter: both sides send
// their ALPN list and the server's first entry the client also offered wins
// (what web-transport's qmux does). On TCP the publisher is therefore
// created only when the peer's transport parameters arrive; a session with
// no common ALPN is closed (UnknownAlpn).
//
// When the connection closes (either side, or the transport under it), the
// close frame is flushed, the transport closed, the reason logged with the
// peer, and `on_ended` posted once.
//
// Create, Start, Close and every handler run on the io_context thread. The
// object is owned through shared_ptr (the handlers hold weak references).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/time/time.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/bridge_status.h"
#include "origin_bridge/lite/publisher_session.h"
#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

// A random origin (hop) id for this process: non-zero, below 2^62. The same
// value on every call.
uint64_t ProcessOriginId();

// moq-lite close code when no application protocol is common (UnknownAlpn).
inline constexpr uint64_t kUnknownAlpnCode = static_cast<uint64_t>(lite::ErrorCode::kUnknownAlpn);

// The options a session's publisher starts from (MoqSessionOptions'
// default): PublisherOptions' own, except
// - origin_id 0, which stands for ProcessOriginId();
// - max_queued_bytes about one peer window (1 MiB): enough to keep the
//   connection busy, little enough that a subscriber behind gets the latest
//   groups, not a backlog;
// - frame timestamps in milliseconds of wall time since 2020-01-01
//   (Clock::Real(), timestamp_epoch), as moq's own publishers stamp them:
//   non-negative, and rising across reconnects.
lite::PublisherOptions SessionPublisherOptions();

struct MoqSessionOptions {
  qmux::Perspective perspective = qmux::Perspective::kClient;
  // What the session's PublisherSession is created with. The session sets
  // `version` (the negotiated one) and `setup_path` (from request_target)
  // itself; an origin_id of 0 stands for ProcessOriginId(). Its
  // max_subscriptions also sizes the connection's bidirectional stream limit.
  lite::PublisherOptions publisher = SessionPublisherOptions();
  // Bytes the connection may hold unsent (waiting for the peer's credit)
  // before the session closes with Lagged: groups are held at the
  // publisher's max_queued_bytes, so what grows past this is control traffic
  // (announcements) a peer withholding credit never reads.
  uint64_t max_unsent_bytes = 64 << 20;
  // The request target (path and query, e.g. "/room?jwt=..."), for a
  // transport that carries none of its own (plain TCP): sent as the lite-05
  // SETUP Path. Empty or "/": none. Ignored when the transport negotiated a
  // version itself (WebSocket carries the target in its request).
  std::string request_target;
  // A peer that has not sent its QMux transport parameters this long after
  // the transport connected (a relay that accepted TCP and hangs, a client
  // that upgraded the WebSocket and says nothing) is closed with Timeout.
  absl::Duration setup_timeout = absl::Seconds(10);
};

class MoqSession : public std::enable_shared_from_this<MoqSession> {
 public:
  // Why the session ended: the connection's close info.
  using EndedHandler = std::function<void(const CloseInfo& info)>;

  // `io`, `origin` and `board` are borrowed and must outlive the session;
  // `board` may be null. `session_id` names the session on the board.
  static std::shared_ptr<MoqSession> Create(boost::asio::io_context& io, std::unique_ptr<Transport> transport,
                                            Origin* origin, MoqSessionOptions options, StatusBoard* board,
                                            uint64_t session_id, EndedHandler on_ended);
  ~MoqSession();
  MoqSession(const MoqSession&) = delete;
  MoqSession& operator=(const MoqSession&) = delete;

  // Called once the moq-lite version is settled (at Start over WebSocket,
  // when the peer's transport parameters arrive over TCP). Set before Start.
  void set_on_version(std::function<void(lite::Version)> on_version) { on_version_ = std::move(on_version); }

  // Called when the session's live subscriptions go from none to some
  // (true) or from some to none (false); a session starts with none. Runs
  // inside the session's event handling: it must not close the session.
  // Set before Start.
  void set_on_subscribed(std::function<void(bool)> on_subscribed) { on_subscribed_ = std::move(on_subscribed); }

  // Starts reading and sends our transport parameters (and, when the
  // version is known, our SETUP).
  void Start();

  // Moves what the origin produced since the last call out, then closes the
  // connection with application code `code`. on_ended follows once the
  // transport is closed.
  void Close(uint64_t code, const std::string& reason);

  bool ended() const { return ended_; }
  const std::string& peer() const { return peer_; }
  // Known once the publisher exists.
  std::optional<lite::Version> version() const;
  // The WebSocket subprotocol, empty on TCP.
  const std::string& subprotocol() const { return subprotocol_; }
  SessionCounters counters() const;

 private:
  class EventShim;
  struct WakeState;

  MoqSession(boost::asio::io_context& io, std::unique_ptr<Transport> transport, Origin* origin,
             MoqSessionOptions options, StatusBoard* board, uint64_t session_id, EndedHandler on_ended);
  void OnBytes(std::string_view bytes);
  void OnTransportClosed(const absl::Status& status);
  void OnWake();
  void OnSetupTimeout();
  // Creates the publisher once the version is known (on TCP: the peer's
  // transport parameters have arrived). Returns it, or null.
  lite::PublisherSession* EnsurePublisher();
  // Hands the connection's outgoing records to the transport; closes the
  // transport once the connection is closed; publishes counters.
  void AfterEvent();
  // Moves records from the connection to the transport while the
  // transport's queue is under kMaxTransportQueuedBytes.
  void FlushToTransport();
  void Finish();

  boost::asio::io_context& io_;
  std::unique_ptr<Transport> transport_;
  Origin* const origin_;
  const MoqSessionOptions options_;
  StatusBoard* const board_;
  const uint64_t session_id_;
  EndedHandler on_ended_;
  std::function<void(lite::Version)> on_version_;
  std::function<void(bool)> on_subscribed_;
  bool subscribed_ = false;  // as last reported to on_subscribed_
  const std::string peer_;
  std::string subprotocol_;
  std::optional<lite::Version> version_;  // set when known

  std::unique_ptr<EventShim> shim_;
  std::unique_ptr<qmux::Connection> connection_;
  std::unique_ptr<lite::PublisherSession> publisher_;
  std::shared_ptr<WakeState> wake_;
  boost::asio::steady_timer setup_timer_;
  bool started_ = false;
  bool transport_closed_ = false;
  bool transport_close_requested_ = false;
  bool ended_ = false;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SESSION_H_
