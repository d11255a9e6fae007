#include "server/admin/admin_http_server.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/admin/prometheus_text.h"

namespace moq_stats::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

// No client operation waits longer than this, so nothing can hang.
constexpr std::chrono::seconds kTimeout(5);

// One parsed HTTP response. (The test parses answers itself rather than
// with Beast's parser: that keeps it independent of the server's parser, and
// g++ 12 with -fsanitize reports -Wmaybe-uninitialized inside Beast's
// response parser.)
struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // The value of header `name` (lower case), "" when absent.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool keep_alive() const {
    const std::string connection = absl::AsciiStrToLower(Header("connection"));
    return version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive";
  }
};

beast::error_code ProtocolError() { return boost::system::errc::make_error_code(boost::system::errc::protocol_error); }

// Parses a response head (status line and header lines, without the empty
// line that ends it).
bool ParseHead(const std::string& head, HttpResponse* res) {
  std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
  if (lines.empty()) return false;
  std::vector<std::string> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &res->status)) return false;
  res->version = status_line[0];
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == std::string::npos) return false;
    res->headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  return true;
}

// A blocking HTTP client for one connection: every operation runs on the
// client's own io_context and gives up after kTimeout.
class TestClient {
 public:
  explicit TestClient(int port, const char* host = "127.0.0.1") {
    const tcp::endpoint endpoint(asio::ip::make_address(host), static_cast<unsigned short>(port));
    connect_error_ = Run([&](auto handler) { stream_.async_connect(endpoint, handler); });
  }

  const beast::error_code& connect_error() const { return connect_error_; }

  beast::error_code Send(const std::string& bytes) {
    return Run([&](auto handler) { asio::async_write(stream_, asio::buffer(bytes), handler); });
  }

  // Reads one response (framed by Content-Length, which the server always
  // sends); `head` when it answers a HEAD request (no body follows).
  beast::error_code Read(HttpResponse* res, bool head = false) {
    beast::error_code ec =
        Run([&](auto handler) { asio::async_read_until(stream_, asio::dynamic_buffer(buffer_), "\r\n\r\n", handler); });
    if (ec) return ec;
    const std::size_t head_end = buffer_.find("\r\n\r\n");
    *res = HttpResponse();
    if (!ParseHead(buffer_.substr(0, head_end), res)) return ProtocolError();
    buffer_.erase(0, head_end + 4);
    if (head) return {};
    std::size_t length = 0;
    if (!absl::SimpleAtoi(res->Header("content-length"), &length)) return ProtocolError();
    if (buffer_.size() < length) {
      ec = Run([&](auto handler) {
        asio::async_read(stream_, asio::dynamic_buffer(buffer_), asio::transfer_exactly(length - buffer_.size()),
                         handler);
      });
      if (ec) return ec;
    }
    res->body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return {};
  }

  // Sends `method target HTTP/1.1` (plus `extra` header lines) and reads the
  // answer; fails the test when either step fails.
  HttpResponse RoundTrip(const std::string& method, const std::string& target, const std::string& extra = "") {
    HttpResponse response;
    beast::error_code ec = Send(method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n");
    EXPECT_FALSE(ec) << "send: " << ec.message();
    ec = Read(&response, method == "HEAD");
    EXPECT_FALSE(ec) << "read: " << ec.message();
    return response;
  }

  // True when the server closes the connection (end of stream or reset)
  // before sending anything more, within kTimeout.
  bool WaitClosed() {
    if (!buffer_.empty()) return false;
    char byte;
    beast::error_code ec = Run([&](auto handler) { stream_.async_read_some(asio::buffer(&byte, 1), handler); });
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  template <class Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = asio::error::timed_out;
    stream_.expires_after(kTimeout);
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  std::string buffer_;  // received, not yet parsed
  beast::error_code connect_error_;
};

// What the handlers report; set by the test, read on the server's thread.
class FakeSidecar {
 public:
  void SetUnhealthy(std::string reason) {
    absl::MutexLock lock(&mu_);
    unhealthy_reason_ = std::move(reason);
  }
  void SetMetrics(std::string body) {
    absl::MutexLock lock(&mu_);
    metrics_ = std::move(body);
  }
  void ThrowFromHandlers(bool on) { throw_.store(on); }

  AdminHttpServer::Handlers handlers() {
    AdminHttpServer::Handlers handlers;
    handlers.health = [this] {
      if (throw_) throw std::runtime_error("health exploded");
      absl::MutexLock lock(&mu_);
      return unhealthy_reason_;
    };
    handlers.metrics = [this]() -> std::string {
      ++metrics_calls_;
      if (throw_) throw 42;  // not even a std::exception
      absl::MutexLock lock(&mu_);
      return metrics_;
    };
    return handlers;
  }

  int metrics_calls() const { return metrics_calls_.load(); }

 private:
  absl::Mutex mu_;
  std::string unhealthy_reason_ ABSL_GUARDED_BY(mu_);
  std::string metrics_ ABSL_GUARDED_BY(mu_);
  // Atomic so the test can flip and read them without a lock while the
  // server's thread runs the handlers; no ordering with other data needed
  // (the responses, waited on, order everything).
  std::atomic<bool> throw_{false};
  std::atomic<int> metrics_calls_{0};
};

class AdminHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PrometheusText text;
    text.Gauge("moq_stats_levels", "Levels held.", 12);
    text.Counter("moq_stats_batches_rejected_total", "Batches refused.", 3, {{"reason", "sequence"}});
    metrics_body_ = text.Take();
    sidecar_.SetMetrics(metrics_body_);
    auto server = AdminHttpServer::Start("127.0.0.1:0", sidecar_.handlers());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  // The server answers /healthz on a fresh connection.
  void ExpectServing() {
    TestClient client(server_->port());
    ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
    EXPECT_EQ(client.RoundTrip("GET", "/healthz").status, 200);
  }

  FakeSidecar sidecar_;
  std::string metrics_body_;
  std::unique_ptr<AdminHttpServer> server_;
};

TEST_F(AdminHttpServerTest, HealthzOkThenUnavailableWithReason) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse ok = client.RoundTrip("GET", "/healthz");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  EXPECT_EQ(ok.Header("content-type"), "text/plain; charset=utf-8");

  sidecar_.SetUnhealthy("checkpoint write failing");
  HttpResponse unhealthy = client.RoundTrip("GET", "/healthz");
  EXPECT_EQ(unhealthy.status, 503);
  EXPECT_EQ(unhealthy.body, "checkpoint write failing\n");

  sidecar_.SetUnhealthy("");
  EXPECT_EQ(client.RoundTrip("GET", "/healthz").status, 200);
}

TEST_F(AdminHttpServerTest, MetricsBodyAndContentType) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse res = client.RoundTrip("GET", "/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, metrics_body_);
  EXPECT_EQ(res.Header("content-type"), PrometheusText::kContentType);
  EXPECT_EQ(res.Header("content-length"), std::to_string(metrics_body_.size()));
}

TEST_F(AdminHttpServerTest, QueryStringIsIgnoredForRouting) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse metrics = client.RoundTrip("GET", "/metrics?name[]=moq_stats_levels");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, metrics_body_);
  EXPECT_EQ(client.RoundTrip("GET", "/healthz?").status, 200);
  EXPECT_EQ(client.RoundTrip("GET", "/nothing?/metrics").status, 404);
}

TEST_F(AdminHttpServerTest, UnknownPathIs404) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  for (const char* target : {"/", "/metricsx", "/healthz/", "/Metrics", "*"}) {
    EXPECT_EQ(client.RoundTrip("GET", target).status, 404) << target;
  }
}

TEST_F(AdminHttpServerTest, OtherMethodsAre405WithAllow) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"}) {
    for (const char* target : {"/metrics", "/healthz"}) {
      HttpResponse res = client.RoundTrip(method, target, "Content-Length: 0\r\n");
      EXPECT_EQ(res.status, 405) << method << " " << target;
      EXPECT_EQ(res.Header("allow"), "GET, HEAD") << method << " " << target;
    }
  }
  // Whatever the path: nothing is served to another method.
  EXPECT_EQ(client.RoundTrip("POST", "/elsewhere", "Content-Length: 0\r\n").status, 405);
  EXPECT_EQ(sidecar_.metrics_calls(), 0);
}

// A server with small limits, for the tests of the bounds.
std::unique_ptr<AdminHttpServer> StartLimited(FakeSidecar* sidecar, AdminHttpServer::Limits limits) {
  auto server = AdminHttpServer::Start("127.0.0.1:0", sidecar->handlers(), limits);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(AdminHttpServerLimitsTest, ConnectionsOverTheCapAreClosedAtOnce) {
  FakeSidecar sidecar;
  AdminHttpServer::Limits limits;
  limits.max_connections = 2;
  std::unique_ptr<AdminHttpServer> server = StartLimited(&sidecar, limits);
  ASSERT_NE(server, nullptr);
  // Two connections, each served once and held open (keep-alive).
  std::optional<TestClient> a(std::in_place, server->port());
  TestClient b(server->port());
  ASSERT_EQ(a->RoundTrip("GET", "/healthz").status, 200);
  ASSERT_EQ(b.RoundTrip("GET", "/healthz").status, 200);
  EXPECT_EQ(server->connections(), 2u);
  // The third is closed without an answer.
  TestClient c(server->port());
  ASSERT_FALSE(c.connect_error()) << c.connect_error().message();
  c.Send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(server->connections_refused(), 1u);
  // Room again once one of them goes.
  a.reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    TestClient d(server->port());
    HttpResponse res;
    served = !d.Send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n") && !d.Read(&res) && res.status == 200;
  }
  EXPECT_TRUE(served);
}

TEST(AdminHttpServerLimitsTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  FakeSidecar sidecar;
  AdminHttpServer::Limits limits;
  limits.idle_timeout = absl::Milliseconds(200);
  std::unique_ptr<AdminHttpServer> server = StartLimited(&sidecar, limits);
  ASSERT_NE(server, nullptr);
  // One that never sends, one idle after an answer, one stuck mid-request:
  // all closed well within the client's 5 s.
  TestClient silent(server->port());
  TestClient idle(server->port());
  ASSERT_EQ(idle.RoundTrip("GET", "/healthz").status, 200);
  TestClient partial(server->port());
  ASSERT_FALSE(partial.Send("GET /metrics HTTP/1.1\r\nHost: te"));
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
}

TEST_F(AdminHttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse first = client.RoundTrip("GET", "/metrics");
  EXPECT_EQ(first.status, 200);
  EXPECT_TRUE(first.keep_alive());
  HttpResponse second = client.RoundTrip("GET", "/metrics");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, metrics_body_);
  EXPECT_EQ(sidecar_.metrics_calls(), 2);

  // Pipelined: two requests in one write, two answers in order.
  ASSERT_FALSE(client.Send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\nGET /nothing HTTP/1.1\r\nHost: test\r\n\r\n"));
  HttpResponse a;
  HttpResponse b;
  ASSERT_FALSE(client.Read(&a));
  ASSERT_FALSE(client.Read(&b));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 404);
}

TEST_F(AdminHttpServerTest, ConnectionCloseIsHonoured) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse res = client.RoundTrip("GET", "/healthz", "Connection: close\r\n");
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(AdminHttpServerTest, Http10Closes) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  ASSERT_FALSE(client.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  HttpResponse res;
  ASSERT_FALSE(client.Read(&res));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok\n");
  EXPECT_EQ(res.version, "HTTP/1.0");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(AdminHttpServerTest, HeadHasHeadersButNoBody) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  HttpResponse head = client.RoundTrip("HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-type"), PrometheusText::kContentType);
  EXPECT_EQ(head.Header("content-length"), std::to_string(metrics_body_.size()));
  EXPECT_EQ(head.body, "");
  HttpResponse health = client.RoundTrip("HEAD", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Header("content-length"), "3");
  // Had a body followed either HEAD answer, this one would not parse.
  HttpResponse get = client.RoundTrip("GET", "/healthz");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "ok\n");
}

TEST_F(AdminHttpServerTest, OversizedHeaderIs400AndClosed) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  ASSERT_FALSE(
      client.Send("GET /metrics HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n"));
  HttpResponse res;
  ASSERT_FALSE(client.Read(&res));
  EXPECT_EQ(res.status, 400);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(sidecar_.metrics_calls(), 0);
  ExpectServing();
}

TEST_F(AdminHttpServerTest, HeaderJustUnderTheLimitIsServed) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  EXPECT_EQ(client.RoundTrip("GET", "/healthz", "X-Big: " + std::string(7 * 1024, 'a') + "\r\n").status, 200);
}

TEST_F(AdminHttpServerTest, OversizedBodyIs400AndClosed) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  ASSERT_FALSE(client.Send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 20480\r\n\r\n" +
                           std::string(20 * 1024, 'b')));
  HttpResponse res;
  ASSERT_FALSE(client.Read(&res));
  EXPECT_EQ(res.status, 400);
  EXPECT_TRUE(client.WaitClosed());
  ExpectServing();
}

TEST_F(AdminHttpServerTest, GarbageGets400OrCloseAndServerKeepsServing) {
  const std::string garbage[] = {
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 22),
      std::string("\0\0\0\0\r\n\r\n", 8),
      "GET /healthz HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET\r\n\r\n",
      "GET /he\x7fz HTTP/1.1\r\n\r\n",
  };
  for (const std::string& bytes : garbage) {
    TestClient client(server_->port());
    ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
    ASSERT_FALSE(client.Send(bytes));
    HttpResponse res;
    beast::error_code ec = client.Read(&res);
    ASSERT_FALSE(ec) << testing::PrintToString(bytes) << ": " << ec.message();
    EXPECT_EQ(res.status, 400) << testing::PrintToString(bytes);
    EXPECT_TRUE(client.WaitClosed()) << testing::PrintToString(bytes);
  }
  // A client that sends half a request and leaves.
  {
    TestClient client(server_->port());
    ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
    ASSERT_FALSE(client.Send("GET /metr"));
  }
  ExpectServing();
}

TEST_F(AdminHttpServerTest, ThrowingHandlersGive500) {
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  sidecar_.ThrowFromHandlers(true);
  HttpResponse health = client.RoundTrip("GET", "/healthz");
  EXPECT_EQ(health.status, 500);
  HttpResponse metrics = client.RoundTrip("GET", "/metrics");
  EXPECT_EQ(metrics.status, 500);
  sidecar_.ThrowFromHandlers(false);
  EXPECT_EQ(client.RoundTrip("GET", "/metrics").body, metrics_body_);
}

TEST_F(AdminHttpServerTest, AddressInUseIsUnavailable) {
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  auto second = AdminHttpServer::Start(address, sidecar_.handlers());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(address));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
  ExpectServing();
}

TEST_F(AdminHttpServerTest, DestructionWithClientsConnectedIsPrompt) {
  // One idle keep-alive connection after a request, one that never sent a
  // byte, one in the middle of a request.
  TestClient idle(server_->port());
  ASSERT_FALSE(idle.connect_error()) << idle.connect_error().message();
  EXPECT_EQ(idle.RoundTrip("GET", "/healthz").status, 200);
  TestClient silent(server_->port());
  ASSERT_FALSE(silent.connect_error()) << silent.connect_error().message();
  TestClient partial(server_->port());
  ASSERT_FALSE(partial.connect_error()) << partial.connect_error().message();
  ASSERT_FALSE(partial.Send("GET /metrics HTTP/1.1\r\nHost: te"));

  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));

  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
}

TEST(AdminHttpServerStartTest, MalformedAddressIsInvalidArgument) {
  for (const char* listen : {"",
                             "127.0.0.1",
                             "127.0.0.1:",
                             ":8080",
                             "127.0.0.1:65536",
                             "127.0.0.1:99999",
                             "127.0.0.1:-1",
                             "127.0.0.1:+80",
                             "127.0.0.1:http",
                             "127.0.0.1: 80",
                             "127.0.0.1:8080x",
                             "::1:8080",
                             "[::1",
                             "[::1]",
                             "[::1]8080",
                             "[]:8080",
                             "[127.0.0.1]:8080",
                             "256.0.0.1:8080",
                             "1.2.3:8080",
                             "example.com:8080",
                             " 127.0.0.1:8080",
                             "127.0.0.1:000080"}) {
    auto server = AdminHttpServer::Start(listen, {});
    ASSERT_FALSE(server.ok()) << '"' << listen << '"';
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << '"' << listen << '"' << server.status();
  }
}

TEST(AdminHttpServerStartTest, LocalhostAndIpv6) {
  auto local = AdminHttpServer::Start("localhost:0", {});
  ASSERT_TRUE(local.ok()) << local.status();
  {
    TestClient client((*local)->port());
    ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
    // No handlers: healthy, and an empty scrape.
    EXPECT_EQ(client.RoundTrip("GET", "/healthz").body, "ok\n");
    HttpResponse metrics = client.RoundTrip("GET", "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.body, "");
  }

  auto v6 = AdminHttpServer::Start("[::1]:0", {});
  if (!v6.ok() && v6.status().code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback here: " << v6.status();
  }
  ASSERT_TRUE(v6.ok()) << v6.status();
  TestClient client((*v6)->port(), "::1");
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  EXPECT_EQ(client.RoundTrip("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace moq_stats::server
