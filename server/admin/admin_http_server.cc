#include "server/admin/admin_http_server.h"

#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/logging.h"
#include "common/refusal_log.h"
#include "server/admin/prometheus_text.h"

namespace moq_stats::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A request's header, and separately its body, may not exceed this.
constexpr std::uint32_t kRequestLimit = 8 * 1024;
// After answering with "Connection: close" the server stops sending and reads
// (and drops) what the client still sends, so that closing does not reset the
// connection before the client has read the answer. This long at most, and
// this many bytes at most.
constexpr absl::Duration kLingerTimeout = absl::Seconds(5);
constexpr std::size_t kLingerLimit = 64 * 1024;
// Pause before accepting again after accept failed (e.g. out of descriptors).
constexpr absl::Duration kAcceptRetryDelay = absl::Milliseconds(100);

constexpr const char* kPlainText = "text/plain; charset=utf-8";

// Asio's timers take std::chrono durations; ours are absl::Duration.
std::chrono::nanoseconds AsioDuration(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

// Resolves "HOST:PORT" (see ParseHostPort): an IPv4 address, a bracketed
// IPv6 address or "localhost" (the IPv4 loopback); other host names are not
// looked up.
absl::StatusOr<tcp::endpoint> ParseListenAddress(const std::string& listen) {
  auto invalid = [&listen](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("admin listen address \"", listen, "\" ", std::string(why)));
  };
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen);
  if (!parsed.ok()) return invalid(std::string(parsed.status().message()));
  asio::ip::address address;
  beast::error_code ec;
  if (parsed->ipv6) {
    address = asio::ip::make_address_v6(parsed->host.c_str(), ec);
  } else if (parsed->host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else {
    address = asio::ip::make_address_v4(parsed->host.c_str(), ec);
  }
  if (ec) return invalid("needs an IP address or localhost (host names are not looked up)");
  return tcp::endpoint(address, parsed->port);
}

// True for the errors Beast's HTTP parser reports about the bytes it was
// given (as opposed to the connection ending or failing).
bool IsBadRequest(const beast::error_code& ec) {
  static const boost::system::error_category& http_category = http::make_error_code(http::error::bad_method).category();
  return ec.category() == http_category && ec != http::error::end_of_stream && ec != http::error::partial_message;
}

Response PlainResponse(http::status status, unsigned version, std::string body) {
  Response res{status, version};
  res.set(http::field::content_type, kPlainText);
  res.body() = std::move(body);
  return res;
}

// Runs a callback; a missing one gives `fallback`.
std::string Call(const std::function<std::string()>& callback, const char* fallback) {
  return callback ? callback() : std::string(fallback);
}

// Answers one parsed request. Exceptions from the callbacks become 500.
Response Route(const AdminHttpServer::Handlers& handlers, const Request& req) {
  const beast::string_view target = req.target();
  const beast::string_view path = target.substr(0, target.find('?'));
  const bool head = req.method() == http::verb::head;
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";

  Response res;
  if (req.method() != http::verb::get && !head) {
    // Nothing here changes state, whatever the path.
    res = PlainResponse(http::status::method_not_allowed, req.version(), "method not allowed\n");
    res.set(http::field::allow, "GET, HEAD");
  } else if (!known) {
    res = PlainResponse(http::status::not_found, req.version(), "not found\n");
  } else {
    try {
      if (path == "/healthz" || path == "/readyz") {
        std::string reason = Call(path == "/healthz" ? handlers.health : handlers.readiness, "");
        res = reason.empty() ? PlainResponse(http::status::ok, req.version(), "ok\n")
                             : PlainResponse(http::status::service_unavailable, req.version(), reason + "\n");
      } else {
        res = PlainResponse(http::status::ok, req.version(), Call(handlers.metrics, ""));
        res.set(http::field::content_type, PrometheusText::kContentType);
      }
    } catch (const std::exception& e) {
      MOQSTATS_LOG(ERROR) << "admin " << std::string(path) << " handler threw: " << e.what();
      res = PlainResponse(http::status::internal_server_error, req.version(), "internal error\n");
    } catch (...) {
      MOQSTATS_LOG(ERROR) << "admin " << std::string(path) << " handler threw a non-exception";
      res = PlainResponse(http::status::internal_server_error, req.version(), "internal error\n");
    }
  }
  res.keep_alive(req.keep_alive());
  if (head) {
    // The length the GET answer would have, and no body.
    const std::size_t length = res.body().size();
    res.body().clear();
    res.content_length(length);
  } else {
    res.prepare_payload();
  }
  return res;
}

// The answer of `handlers.routes` to `req`, if it serves its path (nullopt
// otherwise, and for methods other than GET/HEAD). An exception becomes 500.
std::optional<AdminReply> RouteElsewhere(const AdminHttpServer::Handlers& handlers, const Request& req) {
  const bool head = req.method() == http::verb::head;
  if (!handlers.routes || (req.method() != http::verb::get && !head)) return std::nullopt;
  const beast::string_view target = req.target();
  const size_t question = target.find('?');
  AdminRequest request;
  request.path = std::string(target.substr(0, question));
  if (question != beast::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.head = head;
  try {
    return handlers.routes(request);
  } catch (const std::exception& e) {
    MOQSTATS_LOG(ERROR) << "admin " << request.path << " handler threw: " << e.what();
  } catch (...) {
    MOQSTATS_LOG(ERROR) << "admin " << request.path << " handler threw a non-exception";
  }
  AdminReply error;
  error.status = 500;
  error.content_type = kPlainText;
  error.body = "internal error\n";
  return error;
}

Response ReplyResponse(AdminReply reply, const Request& req) {
  Response res{static_cast<http::status>(reply.status), req.version()};
  res.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) res.set(name, value);
  res.body() = std::move(reply.body);
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    const std::size_t length = res.body().size();
    res.body().clear();
    res.content_length(length);
  } else {
    res.prepare_payload();
  }
  return res;
}

// One client connection: reads requests one after the other and answers
// each. Lives as long as an operation of its own is pending (every handler
// holds a shared_ptr to it). Used only on the server's thread.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  // `handlers` must outlive the session (the server's io_context, which
  // destroys the last pending handler, is destroyed before them).
  // `open` counts the sessions alive; it must outlive the session too.
  AdminSession(tcp::socket socket, const AdminHttpServer::Handlers* handlers, absl::Duration idle_timeout,
               std::atomic<size_t>* open)
      : stream_(std::move(socket)), handlers_(handlers), idle_timeout_(idle_timeout), open_(open) {
    open_->fetch_add(1, std::memory_order_relaxed);
  }
  ~AdminSession() { open_->fetch_sub(1, std::memory_order_relaxed); }
  AdminSession(const AdminSession&) = delete;
  AdminSession& operator=(const AdminSession&) = delete;

  void Start() { ReadRequest(); }

  // Closes the connection; pending operations complete with an error.
  void Close() { stream_.close(); }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(kRequestLimit);
    parser_->body_limit(kRequestLimit);
    stream_.expires_after(AsioDuration(idle_timeout_));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // closed by the server
    if (IsBadRequest(ec)) {
      MOQSTATS_LOG(DEBUG) << "admin: bad request: " << ec.message();
      Response res = PlainResponse(http::status::bad_request, 11, "bad request\n");
      res.keep_alive(false);
      res.prepare_payload();
      Write(std::move(res));
      return;
    }
    if (ec) {
      // The client closed, the connection failed or sat idle too long.
      if (ec != http::error::end_of_stream) MOQSTATS_LOG(DEBUG) << "admin: connection ends: " << ec.message();
      Close();
      return;
    }
    if (std::optional<AdminReply> reply = RouteElsewhere(*handlers_, parser_->get())) {
      if (reply->stream) {
        // The stream owns the connection from here on.
        reply->stream(stream_.release_socket());
        return;
      }
      Write(ReplyResponse(*std::move(reply), parser_->get()));
      return;
    }
    Write(Route(*handlers_, parser_->get()));
  }

  void Write(Response res) {
    response_ = std::move(res);
    stream_.expires_after(AsioDuration(idle_timeout_));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      Close();
      return;
    }
    if (response_.need_eof()) {
      Linger();
      return;
    }
    ReadRequest();
  }

  // Ends the connection after an answer with "Connection: close": sends FIN,
  // then drops what the client still sends until it closes too.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    stream_.expires_after(AsioDuration(kLingerTimeout));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerLimit) {
        self->Close();
        return;
      }
      self->Drain();
    });
  }

  beast::tcp_stream stream_;
  const AdminHttpServer::Handlers* const handlers_;
  const absl::Duration idle_timeout_;
  std::atomic<size_t>* const open_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  std::array<char, 4096> drain_;
  std::size_t drained_ = 0;
};

class AdminHttpServerImpl : public AdminHttpServer {
 public:
  AdminHttpServerImpl(Handlers handlers, Limits limits) : handlers_(std::move(handlers)), limits_(limits) {}

  ~AdminHttpServerImpl() override {
    if (!thread_.joinable()) return;
    // Destroying the server from one of its own callbacks would deadlock.
    assert(std::this_thread::get_id() != thread_.get_id());
    asio::post(io_, [this] { Shutdown(); });
    thread_.join();
    // Handlers still pending (and with them the sessions) are destroyed with
    // io_.
  }

  int port() const override { return port_; }
  size_t connections() const override { return open_.load(std::memory_order_relaxed); }
  uint64_t connections_refused() const override { return refusals_.total(); }

  // Opens, binds and listens on `endpoint`; `listen` names it in errors.
  absl::Status Listen(const tcp::endpoint& endpoint, const std::string& listen) {
    auto unavailable = [&listen](const char* step, const beast::error_code& ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on admin address ", listen, ": ", step, ": ", ec.message()));
    };
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return unavailable("socket", ec);
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return unavailable("SO_REUSEADDR", ec);
    acceptor_.bind(endpoint, ec);
    if (ec) return unavailable("bind", ec);
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return unavailable("listen", ec);
    const tcp::endpoint local = acceptor_.local_endpoint(ec);
    if (ec) return unavailable("getsockname", ec);
    port_ = local.port();
    return absl::OkStatus();
  }

  // Starts accepting on the server's thread.
  void Run() {
    Accept();
    thread_ = std::thread([this] { RunLoop(); });
  }

 private:
  void RunLoop() {
    for (;;) {
      // Nothing should throw out of a handler; if something does, log it and
      // keep serving (run() may be called again after an exception).
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        MOQSTATS_LOG(ERROR) << "admin HTTP server: exception escaped a handler: " << e.what();
      } catch (...) {
        MOQSTATS_LOG(ERROR) << "admin HTTP server: non-exception escaped a handler";
      }
    }
  }

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      MOQSTATS_LOG(WARNING) << "admin HTTP server: accept failed: " << ec.message();
      accept_retry_timer_.expires_after(AsioDuration(kAcceptRetryDelay));
      accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) Accept();
      });
      return;
    }
    // Sessions are destroyed on this thread, so the count is exact here.
    if (open_.load(std::memory_order_relaxed) >= limits_.max_connections) {
      // Over the cap: closed at once, before anything is read.
      // Logged once per interval with a count: a flood costs one line.
      if (uint64_t count = refusals_.Refused(Clock::Real()->Now())) {
        MOQSTATS_LOG(WARNING) << "admin HTTP server: refused " << count << " connection(s): " << limits_.max_connections
                              << " open (--admin-max-connections)";
      }
      socket.close(ec);
      Accept();
      return;
    }
    // Answers are written whole; don't hold the second of two pipelined ones
    // back for the client's delayed ACK. Failing to set it is harmless.
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<AdminSession>(std::move(socket), &handlers_, limits_.idle_timeout, &open_);
    session->Start();
    ForgetClosedSessions();
    sessions_.push_back(session);
    Accept();
  }

  void ForgetClosedSessions() {
    std::vector<std::weak_ptr<AdminSession>> open;
    open.reserve(sessions_.size() + 1);
    for (auto& session : sessions_) {
      if (!session.expired()) open.push_back(std::move(session));
    }
    sessions_.swap(open);
  }

  // On the server's thread: stops accepting, closes every connection and
  // stops the io_context (handlers not yet run are dropped, never run).
  void Shutdown() {
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_timer_.cancel();
    for (auto& weak : sessions_) {
      if (auto session = weak.lock()) session->Close();
    }
    sessions_.clear();
    io_.stop();
  }

  // Constant after construction. Declared before io_ so that it outlives the
  // sessions io_ destroys.
  const Handlers handlers_;
  const Limits limits_;
  // Sessions alive (each counts itself), and connections refused over the
  // cap. Declared before io_ for the same reason as handlers_.
  std::atomic<size_t> open_{0};
  RefusalLog refusals_;  // connections refused over the cap, and when they are logged

  asio::io_context io_{1};
  // Used only on the server's thread once Run() is called.
  tcp::acceptor acceptor_{io_};
  asio::steady_timer accept_retry_timer_{io_};
  std::vector<std::weak_ptr<AdminSession>> sessions_;

  // Constant once Listen() returns.
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminHttpServer>> AdminHttpServer::Start(const std::string& listen, Handlers handlers) {
  return Start(listen, std::move(handlers), Limits());
}

absl::StatusOr<std::unique_ptr<AdminHttpServer>> AdminHttpServer::Start(const std::string& listen, Handlers handlers,
                                                                        Limits limits) {
  absl::StatusOr<tcp::endpoint> endpoint = ParseListenAddress(listen);
  if (!endpoint.ok()) return endpoint.status();
  if (!endpoint->address().is_loopback()) {
    MOQSTATS_LOG(WARNING) << "admin HTTP server on " << listen
                          << ", not a loopback address: /metrics and /healthz are open to that network";
  }
  auto server = std::make_unique<AdminHttpServerImpl>(std::move(handlers), limits);
  absl::Status listening = server->Listen(*endpoint, listen);
  if (!listening.ok()) return listening;
  server->Run();
  MOQSTATS_LOG(INFO) << "admin HTTP server listening on " << listen << " (port " << server->port() << ")";
  return std::unique_ptr<AdminHttpServer>(std::move(server));
}

}  // namespace moq_stats::server
