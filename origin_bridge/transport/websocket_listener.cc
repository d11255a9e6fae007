// WebSocketListener: the accept loop, the HTTP upgrade with the subprotocol
// choice (SelectSubprotocol), and the limits on open connections and on
// handshake time; see transport.h.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/logging.h"
#include "common/refusal_log.h"
#include "origin_bridge/transport/peer_address.h"
#include "origin_bridge/transport/subprotocol.h"
#include "origin_bridge/transport/transport.h"
#include "origin_bridge/transport/websocket_transport.h"

namespace moq_stats::bridge {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;

constexpr uint32_t kMaxRequestHeaderBytes = 8 * 1024;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

// Counts one open connection for as long as it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<size_t> open) : open_(std::move(open)) { ++*open_; }
  ~ConnectionSlot() { --*open_; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<size_t> open_;
};

class ListenerState;

// One accepted socket until its upgrade completes or fails.
class Handshake : public std::enable_shared_from_this<Handshake> {
 public:
  Handshake(tcp::socket socket, std::weak_ptr<ListenerState> listener, uint64_t id, std::shared_ptr<void> slot,
            const WebSocketListener::Options& options)
      : ws_(std::move(socket)),
        listener_(std::move(listener)),
        id_(id),
        slot_(std::move(slot)),
        options_(options),
        peer_(RemoteAddress(ws_.next_layer())),
        timer_(ws_.get_executor()) {}

  void Start();
  // Drops the socket; the handshake ends silently.
  void Drop();

 private:
  void OnRequest(error_code ec);
  void OnAccepted(error_code ec);
  void Refuse(std::string reason);
  void End();

  WebSocketStream ws_;
  const std::weak_ptr<ListenerState> listener_;
  const uint64_t id_;
  std::shared_ptr<void> slot_;
  const WebSocketListener::Options options_;
  const std::string peer_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> refusal_;
  std::optional<Negotiated> chosen_;
  bool done_ = false;
};

class ListenerState : public std::enable_shared_from_this<ListenerState> {
 public:
  ListenerState(asio::io_context& io, tcp::acceptor acceptor, WebSocketListener::AcceptHandler on_session,
                const WebSocketListener::Options& options)
      : acceptor_(std::move(acceptor)), retry_timer_(io), on_session_(std::move(on_session)), options_(options) {}

  uint16_t port() const { return port_; }
  void set_port(uint16_t port) { port_ = port; }

  void Accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](error_code ec, tcp::socket socket) { self->OnAccept(ec, std::move(socket)); });
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    std::map<uint64_t, std::weak_ptr<Handshake>> handshakes;
    handshakes.swap(handshakes_);
    for (auto& [id, weak] : handshakes) {
      if (std::shared_ptr<Handshake> handshake = weak.lock()) handshake->Drop();
    }
  }

  void Forget(uint64_t id) { handshakes_.erase(id); }

  void Deliver(std::unique_ptr<Transport> transport) {
    if (stopped_) return;
    on_session_(std::move(transport));
  }

  bool stopped() const { return stopped_; }

 private:
  void OnAccept(error_code ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      // Out of descriptors and the like: try again shortly rather than spin.
      MOQSTATS_LOG(WARNING) << "websocket listener :" << port_ << ": accept: " << ec.message();
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec && !self->stopped_) self->Accept();
      });
      return;
    }
    if (*open_ >= options_.max_connections) {
      // Once per interval with the count: a client retrying in a loop must
      // not flood the log.
      if (uint64_t count = refusals_.Refused(Clock::Real()->Now())) {
        MOQSTATS_LOG(WARNING) << "websocket listener :" << port_ << ": refused " << count << " connection(s) (the last "
                              << RemoteAddress(socket) << "), " << *open_ << " connections open (max "
                              << options_.max_connections << ")";
      }
      error_code ignored;
      socket.close(ignored);
    } else {
      uint64_t id = next_id_++;
      auto handshake = std::make_shared<Handshake>(std::move(socket), weak_from_this(), id,
                                                   std::make_shared<ConnectionSlot>(open_), options_);
      handshakes_.emplace(id, handshake);
      handshake->Start();
    }
    Accept();
  }

  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  RefusalLog refusals_;
  WebSocketListener::AcceptHandler on_session_;
  const WebSocketListener::Options options_;
  const std::shared_ptr<size_t> open_ = std::make_shared<size_t>(0);
  std::map<uint64_t, std::weak_ptr<Handshake>> handshakes_;
  uint64_t next_id_ = 0;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

void Handshake::Start() {
  timer_.expires_after(std::chrono::milliseconds(options_.handshake_timeout_ms));
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->done_) return;
    MOQSTATS_LOG(DEBUG) << "websocket " << self->peer_ << ": handshake timed out";
    self->Drop();
  });
  parser_.header_limit(kMaxRequestHeaderBytes);
  http::async_read(ws_.next_layer(), buffer_, parser_,
                   [self = shared_from_this()](error_code ec, size_t) { self->OnRequest(ec); });
}

void Handshake::OnRequest(error_code ec) {
  if (done_) return;
  if (ec) {
    MOQSTATS_LOG(DEBUG) << "websocket " << peer_ << ": bad upgrade request: " << ec.message();
    Drop();
    return;
  }
  const http::request<http::empty_body>& request = parser_.get();
  if (!websocket::is_upgrade(request)) {
    Refuse("not a websocket upgrade");
    return;
  }
  std::vector<std::string_view> offered;
  auto [begin, end] = request.equal_range(http::field::sec_websocket_protocol);
  for (auto it = begin; it != end; ++it) {
    beast::string_view value = it->value();
    for (std::string_view name : SplitSubprotocols(std::string_view(value.data(), value.size()))) {
      offered.push_back(name);
    }
  }
  chosen_ = SelectSubprotocol(offered);
  if (!chosen_.has_value()) {
    Refuse("no supported protocol");
    return;
  }
  std::string name = chosen_->subprotocol;
  ws_.set_option(websocket::stream_base::decorator([name](websocket::response_type& response) {
    response.set(http::field::sec_websocket_protocol, name);
    response.set(http::field::server, "moq-stats-sidecar");
  }));
  ws_.async_accept(request, [self = shared_from_this()](error_code ec) { self->OnAccepted(ec); });
}

void Handshake::OnAccepted(error_code ec) {
  if (done_) return;
  if (ec) {
    MOQSTATS_LOG(DEBUG) << "websocket " << peer_ << ": upgrade failed: " << ec.message();
    Drop();
    return;
  }
  std::shared_ptr<ListenerState> listener = listener_.lock();
  if (listener == nullptr || listener->stopped()) {
    Drop();
    return;
  }
  End();
  WebSocketOptions options;
  options.max_message_size = options_.max_message_size;
  options.idle_timeout_ms = options_.idle_timeout_ms;
  listener->Deliver(MakeWebSocketTransport(std::move(ws_), std::move(*chosen_), peer_, options, std::move(slot_)));
}

void Handshake::Refuse(std::string reason) {
  MOQSTATS_LOG(DEBUG) << "websocket " << peer_ << ": refused: " << reason;
  refusal_.version(parser_.get().version());
  refusal_.result(http::status::bad_request);
  refusal_.set(http::field::server, "moq-stats-sidecar");
  refusal_.set(http::field::content_type, "text/plain");
  refusal_.set(http::field::connection, "close");
  refusal_.body() = std::move(reason);
  refusal_.prepare_payload();
  http::async_write(ws_.next_layer(), refusal_, [self = shared_from_this()](error_code, size_t) {
    if (self->done_) return;
    error_code ignored;
    self->ws_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    self->Drop();
  });
}

void Handshake::Drop() {
  if (done_) return;
  End();
  error_code ignored;
  ws_.next_layer().close(ignored);
  slot_.reset();
}

void Handshake::End() {
  done_ = true;
  timer_.cancel();
  if (std::shared_ptr<ListenerState> listener = listener_.lock()) listener->Forget(id_);
}

class WebSocketListenerImpl : public WebSocketListener {
 public:
  explicit WebSocketListenerImpl(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
  ~WebSocketListenerImpl() override { state_->Stop(); }
  WebSocketListenerImpl(const WebSocketListenerImpl&) = delete;
  WebSocketListenerImpl& operator=(const WebSocketListenerImpl&) = delete;

  uint16_t port() const override { return state_->port(); }
  void Stop() override { state_->Stop(); }

 private:
  std::shared_ptr<ListenerState> state_;
};

absl::StatusOr<tcp::endpoint> ResolveBindAddress(asio::io_context& io, const std::string& host, uint16_t port) {
  error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(io);
  tcp::resolver::results_type results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("websocket listener ", FormatHostPort(host, port), ": cannot resolve: ", ec.message()));
  }
  return results.begin()->endpoint();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WebSocketListener>> WebSocketListener::Bind(asio::io_context& io,
                                                                           const std::string& host, uint16_t port,
                                                                           AcceptHandler on_session) {
  return Bind(io, host, port, std::move(on_session), Options());
}

absl::StatusOr<std::unique_ptr<WebSocketListener>> WebSocketListener::Bind(asio::io_context& io,
                                                                           const std::string& host, uint16_t port,
                                                                           AcceptHandler on_session,
                                                                           const Options& options) {
  absl::StatusOr<tcp::endpoint> endpoint = ResolveBindAddress(io, host, port);
  if (!endpoint.ok()) return endpoint.status();
  tcp::acceptor acceptor(io);
  error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("websocket listener ", FormatHostPort(host, port), ": cannot listen: ", ec.message()));
  }
  uint16_t bound_port = acceptor.local_endpoint(ec).port();
  auto state = std::make_shared<ListenerState>(io, std::move(acceptor), std::move(on_session), options);
  state->set_port(bound_port);
  state->Accept();
  return std::unique_ptr<WebSocketListener>(new WebSocketListenerImpl(std::move(state)));
}

}  // namespace moq_stats::bridge
