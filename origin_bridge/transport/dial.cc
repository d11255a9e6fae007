// AsyncDial: resolve, TCP connect and, for WebSocket, the opening handshake
// offering OfferedSubprotocols(); see transport.h.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "absl/strings/str_cat.h"
#include "common/host_port.h"
#include "origin_bridge/transport/peer_address.h"
#include "origin_bridge/transport/subprotocol.h"
#include "origin_bridge/transport/tcp_transport.h"
#include "origin_bridge/transport/transport.h"
#include "origin_bridge/transport/websocket_transport.h"

namespace moq_stats::bridge {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;

class DialOperation : public std::enable_shared_from_this<DialOperation> {
 public:
  DialOperation(asio::io_context& io, const DialTarget& target, uint64_t timeout_ms, DialHandler handler)
      : target_(target),
        timeout_ms_(timeout_ms),
        handler_(std::move(handler)),
        address_(FormatHostPort(target.host, target.port)),
        what_(absl::StrCat(target.scheme == DialTarget::Scheme::kWebSocket ? "ws://" : "tcp://", address_)),
        resolver_(io),
        timer_(io),
        ws_(io) {}

  void Start() {
    timer_.expires_after(std::chrono::milliseconds(timeout_ms_));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->done_) return;
      self->Finish(absl::DeadlineExceededError(
          absl::StrCat("dial ", self->what_, ": timed out after ", self->timeout_ms_, " ms")));
    });
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                              self->OnResolve(ec, std::move(results));
                            });
  }

 private:
  void OnResolve(error_code ec, tcp::resolver::results_type results) {
    if (done_) return;
    if (ec) {
      Finish(absl::UnavailableError(absl::StrCat("dial ", what_, ": cannot resolve host: ", ec.message())));
      return;
    }
    asio::async_connect(socket(), results,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint&) { self->OnConnect(ec); });
  }

  void OnConnect(error_code ec) {
    if (done_) return;
    if (ec) {
      Finish(absl::UnavailableError(absl::StrCat("dial ", what_, ": ", ec.message())));
      return;
    }
    peer_ = RemoteAddress(socket());
    if (target_.scheme == DialTarget::Scheme::kTcp) {
      Finish(MakeTcpTransport(std::move(socket()), peer_));
      return;
    }
    std::string offer = JoinSubprotocols(OfferedSubprotocols());
    ws_.set_option(websocket::stream_base::decorator([offer](websocket::request_type& request) {
      request.set(http::field::sec_websocket_protocol, offer);
      request.set(http::field::user_agent, "moq-stats-sidecar");
    }));
    ws_.async_handshake(response_, address_, target_.target.empty() ? "/" : target_.target,
                        [self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(error_code ec) {
    if (done_) return;
    if (ec) {
      Finish(HandshakeError(ec));
      return;
    }
    std::string chosen(response_[http::field::sec_websocket_protocol]);
    std::optional<Negotiated> negotiated = ParseSubprotocol(chosen);
    if (!negotiated.has_value()) {
      Finish(absl::FailedPreconditionError(
          absl::StrCat("dial ", what_, ": server agreed ",
                       chosen.empty() ? std::string("no subprotocol") : absl::StrCat("subprotocol \"", chosen, "\""),
                       ", not one we offered (", JoinSubprotocols(OfferedSubprotocols()), ")")));
      return;
    }
    Finish(MakeWebSocketTransport(std::move(ws_), std::move(*negotiated), peer_));
  }

  absl::Status HandshakeError(error_code ec) const {
    unsigned status = response_.result_int();
    if (ec == websocket::error::upgrade_declined && status != 0) {
      std::string text = absl::StrCat("dial ", what_, ": server refused the upgrade with HTTP ", status, " ",
                                      std::string(response_.reason()));
      if (status == 400) {
        return absl::FailedPreconditionError(
            absl::StrCat(text, " (no subprotocol in common with ", JoinSubprotocols(OfferedSubprotocols()), "?)"));
      }
      if (status == 401 || status == 403) return absl::PermissionDeniedError(text);
      return absl::UnavailableError(text);
    }
    return absl::UnavailableError(absl::StrCat("dial ", what_, ": websocket handshake: ", ec.message()));
  }

  tcp::socket& socket() { return ws_.next_layer(); }

  void Finish(absl::StatusOr<std::unique_ptr<Transport>> result) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    resolver_.cancel();
    if (!result.ok()) {
      error_code ignored;
      socket().close(ignored);
    }
    DialHandler handler = std::move(handler_);
    handler(std::move(result));
  }

  const DialTarget target_;
  const uint64_t timeout_ms_;
  DialHandler handler_;
  const std::string address_;  // host:port as asked for
  const std::string what_;     // scheme://host:port, for errors
  std::string peer_;           // the address connected to
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  WebSocketStream ws_;  // also holds the socket in TCP mode
  websocket::response_type response_;
  bool done_ = false;
};

}  // namespace

void AsyncDial(asio::io_context& io, const DialTarget& target, uint64_t timeout_ms, DialHandler handler) {
  if (target.host.empty() || target.port == 0) {
    std::string what = FormatHostPort(target.host, target.port);
    asio::post(io, [handler = std::move(handler), what]() {
      handler(absl::InvalidArgumentError(absl::StrCat("dial ", what, ": no host or port")));
    });
    return;
  }
  std::make_shared<DialOperation>(io, target, timeout_ms, std::move(handler))->Start();
}

}  // namespace moq_stats::bridge
