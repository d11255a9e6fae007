#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TRANSPORT_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TRANSPORT_H_

// The transport adapters: the only part of the bridge that touches sockets.
// A Transport carries QMux bytes over one connected WebSocket (Boost.Beast;
// one binary message per record) or plain TCP (a byte stream of
// size-prefixed records). Everything runs on one boost::asio::io_context
// thread: methods must be called there and handlers run there.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/qmux/record.h"

namespace moq_stats::bridge {

// What the WebSocket subprotocol (or, on TCP, the QMux ALPN) settled.
struct Negotiated {
  lite::Version version = lite::Version::kLite05;
  bool qmux_records = true;  // qmux-01 (true) or qmux-00 (false)
  std::string subprotocol;   // as agreed, e.g. "qmux-01.moq-lite-05"; empty on TCP
};

// A Transport may be destroyed at any time on the io_context thread, even
// from inside its own handlers: no handler runs afterwards; a Close() under
// way still completes in the background (bounded), otherwise the socket is
// dropped at once. Errors name the peer's host:port.
class Transport {
 public:
  struct Handlers {
    // Bytes from the peer: one whole WebSocket message, or a slice of the
    // TCP stream.
    std::function<void(std::string_view bytes)> on_bytes;
    // The transport ended (peer close, error, or our Close). Called once.
    std::function<void(absl::Status status)> on_closed;
    // Everything queued with Send has been written to the socket (optional;
    // lets the owner produce more only as the socket takes it).
    std::function<void()> on_drained;
  };

  virtual ~Transport() = default;

  virtual qmux::RecordMode mode() const = 0;
  // WebSocket: known once connected. TCP: nullopt; the version comes from
  // the QMux transport parameters.
  virtual std::optional<Negotiated> negotiated() const = 0;
  // "host:port" of the peer, for logs.
  virtual std::string peer() const = 0;

  // Starts reading. Call once.
  virtual void Start(Handlers handlers) = 0;
  // Queues chunks to write in order: whole WebSocket messages, or TCP bytes.
  virtual void Send(std::vector<std::string> chunks) = 0;
  // Bytes queued and not yet written to the socket.
  virtual uint64_t queued_bytes() const = 0;
  // Closes gracefully (WebSocket close / TCP shutdown); on_closed follows.
  virtual void Close() = 0;
};

// Where dial mode connects: from `--origin-url`, ws://host:port/path?query
// (WebSocket) or tcp://host:port[/path?query] (plain QMux).
struct DialTarget {
  enum class Scheme { kWebSocket, kTcp };
  Scheme scheme = Scheme::kWebSocket;
  std::string host;  // name or address; IPv6 without brackets
  uint16_t port = 0;
  // Request target, path and query: the WebSocket request's; over TCP the
  // session sends it in the lite-05 SETUP.
  std::string target = "/";
};

// The versions we offer, most preferred first: moq-lite-05, -04, -03.
std::vector<lite::Version> OfferedVersions();

using DialHandler = std::function<void(absl::StatusOr<std::unique_ptr<Transport>>)>;

// Connects to `target` (resolve, TCP connect, and for WebSocket the
// handshake offering qmux-01.<alpn> then qmux-00.<alpn> for each version)
// and calls `handler` once on the io_context with the connected transport
// or why it failed (UNAVAILABLE for network errors, FAILED_PRECONDITION when
// the peer agreed no subprotocol we offered). Gives up after `timeout_ms`.
void AsyncDial(boost::asio::io_context& io, const DialTarget& target, uint64_t timeout_ms, DialHandler handler);

// Accepts WebSocket sessions from MoQ clients on a TCP port. The subprotocol
// chosen is the first of ours (OfferedVersions() order, qmux-01 before
// qmux-00 for the same moq-lite version) that the client offered, wherever
// it sits in the client's list: the server's preference wins, as in
// moq-dev's qmux::ws::Server and moq-relay. A client offering none we
// support is refused with HTTP 400. Methods run on the io_context thread
// (Bind may run before it starts).
class WebSocketListener {
 public:
  using AcceptHandler = std::function<void(std::unique_ptr<Transport>)>;

  struct Options {
    // Connections open at once (handshakes in progress plus sessions not yet
    // ended); sockets accepted beyond this are closed at once.
    size_t max_connections = 256;
    // An accepted socket must complete the HTTP upgrade within this.
    uint32_t handshake_timeout_ms = 10000;
    // Largest WebSocket message accepted from a client; bigger ends the
    // session.
    uint64_t max_message_size = 1 << 20;
    // No message for this long ends a session (a ping goes out at half).
    // 0 disables.
    uint32_t idle_timeout_ms = 30000;
  };

  // Binds `host:port` (port 0 picks a free one) and starts accepting.
  // `on_session` runs for each completed handshake.
  static absl::StatusOr<std::unique_ptr<WebSocketListener>> Bind(boost::asio::io_context& io, const std::string& host,
                                                                 uint16_t port, AcceptHandler on_session);
  static absl::StatusOr<std::unique_ptr<WebSocketListener>> Bind(boost::asio::io_context& io, const std::string& host,
                                                                 uint16_t port, AcceptHandler on_session,
                                                                 const Options& options);
  virtual ~WebSocketListener() = default;
  // The bound port.
  virtual uint16_t port() const = 0;
  // Stops accepting; handshakes in progress are dropped.
  virtual void Stop() = 0;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TRANSPORT_H_
