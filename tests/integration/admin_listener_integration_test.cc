// The admin listener's bounds on the real daemon: loopback by default, only
// GET and HEAD (405 otherwise, whatever the path), requests over 8 KiB of
// header refused, idle connections closed after --admin-idle-timeout, and no
// more than --admin-max-connections open at once.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"

namespace moq_stats::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// No read waits longer than this, so nothing can hang.
constexpr int kReadTimeoutSeconds = 10;

// One TCP connection to the admin port, with blocking reads bounded by
// kReadTimeoutSeconds.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{kReadTimeoutSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until `want` has arrived (true), or the peer closes or the read
  // times out (false).
  bool ReadUntil(const std::string& want) {
    while (received_.find(want) == std::string::npos) {
      if (!ReadSome()) return false;
    }
    return true;
  }

  // True when the server closes the connection (EOF or reset) before
  // kReadTimeoutSeconds, whatever it sent before.
  bool WaitClosed() {
    for (;;) {
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      received_.append(buf, static_cast<size_t>(n));
    }
  }

  const std::string& received() const { return received_; }

 private:
  bool ReadSome() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

std::string Request(const std::string& method, const std::string& target, const std::string& extra = "") {
  return absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: test\r\n", extra, "\r\n");
}

TEST(AdminListenerIntegrationTest, DefaultsToLoopback) {
  TempDir dir;
  CommandResult result =
      RunSidecarCommand({"--check-config", "--listen", "unix:" + dir.path() + "/s.sock"}, dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("admin-listen=127.0.0.1:9090\n"));
  EXPECT_THAT(result.out, HasSubstr("admin-max-connections=16\n"));
  EXPECT_THAT(result.out, HasSubstr("admin-idle-timeout=30s\n"));
}

TEST(AdminListenerIntegrationTest, ANonLoopbackAddressIsWarnedAbout) {
  DaemonProcess daemon({absl::StrCat("--admin-listen=0.0.0.0:", PickFreeLoopbackPort())});
  ASSERT_TRUE(daemon.Start());
  EXPECT_THAT(daemon.Log(), HasSubstr("not a loopback address"));
}

TEST(AdminListenerIntegrationTest, OnlyGetAndHeadAreServed) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}) {
    for (const char* target : {"/metrics", "/healthz", "/", "/-/reload", "/api/v1/levels"}) {
      RawConnection c(daemon.admin_port());
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.Send(Request(method, target, "Content-Length: 0\r\n")));
      ASSERT_TRUE(c.ReadUntil("\r\n\r\n")) << method << " " << target << ": " << c.received();
      EXPECT_THAT(c.received(), StartsWith("HTTP/1.1 405 ")) << method << " " << target;
      EXPECT_THAT(c.received(), HasSubstr("Allow: GET, HEAD\r\n")) << method << " " << target;
    }
  }
  // GET and HEAD are.
  RawConnection c(daemon.admin_port());
  ASSERT_TRUE(c.Send(Request("HEAD", "/metrics")));
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  EXPECT_THAT(c.received(), StartsWith("HTTP/1.1 200 "));
  absl::StatusOr<HttpResponse> get = HttpGet(daemon.admin_port(), "/metrics");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
}

TEST(AdminListenerIntegrationTest, AHeaderOver8KiBIsRefused) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  // Just under the limit: served.
  RawConnection under(daemon.admin_port());
  ASSERT_TRUE(under.Send(Request("GET", "/healthz", "X-Pad: " + std::string(7 * 1024, 'a') + "\r\n")));
  ASSERT_TRUE(under.ReadUntil("\r\n\r\n"));
  EXPECT_THAT(under.received(), StartsWith("HTTP/1.1 200 "));
  // Over it: 400 and the connection closed.
  RawConnection over(daemon.admin_port());
  over.Send(Request("GET", "/healthz", "X-Pad: " + std::string(9 * 1024, 'a') + "\r\n"));
  EXPECT_TRUE(over.WaitClosed());
  EXPECT_THAT(over.received(), StartsWith("HTTP/1.1 400 "));
  // The daemon goes on serving.
  absl::StatusOr<HttpResponse> health = HttpGet(daemon.admin_port(), "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
}

TEST(AdminListenerIntegrationTest, IdleConnectionsAreClosed) {
  DaemonProcess daemon({"--admin-idle-timeout=300ms"});
  ASSERT_TRUE(daemon.Start());
  RawConnection silent(daemon.admin_port());
  RawConnection after_answer(daemon.admin_port());
  ASSERT_TRUE(after_answer.Send(Request("GET", "/healthz")));
  ASSERT_TRUE(after_answer.ReadUntil("ok\n"));
  RawConnection slow(daemon.admin_port());
  ASSERT_TRUE(slow.Send("GET /metrics HTTP/1.1\r\nHo"));
  // Each is closed by the server (the reads give up only after 10 s).
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(after_answer.WaitClosed());
  EXPECT_TRUE(slow.WaitClosed());
  EXPECT_EQ(silent.received(), "");
}

TEST(AdminListenerIntegrationTest, ConnectionsOverTheCapAreClosed) {
  DaemonProcess daemon({"--admin-max-connections=3"});
  ASSERT_TRUE(daemon.Start());
  // Three held open, each served once so the server has surely taken it.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon.admin_port()));
    ASSERT_TRUE(held.back()->Send(Request("GET", "/healthz")));
    ASSERT_TRUE(held.back()->ReadUntil("ok\n"));
  }
  // A fourth gets no answer, only the close.
  RawConnection fourth(daemon.admin_port());
  fourth.Send(Request("GET", "/healthz"));
  EXPECT_TRUE(fourth.WaitClosed());
  EXPECT_EQ(fourth.received(), "");
  // The held ones still work.
  ASSERT_TRUE(held[0]->Send(Request("GET", "/metrics")));
  ASSERT_TRUE(held[0]->ReadUntil("moq_stats_admin_connections_refused_total 1\n")) << held[0]->received();
  // Room again once one goes (the server sees the close at once; a few
  // tries in case the fresh connection is accepted before the close is).
  held.pop_back();
  std::optional<std::map<std::string, double>> metrics;
  for (int attempt = 0; attempt < 50 && !metrics; ++attempt) metrics = ScrapeMetrics(daemon.admin_port());
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(metrics->at("moq_stats_admin_connections"), 3);
  EXPECT_GE(metrics->at("moq_stats_admin_connections_refused_total"), 1);
}

}  // namespace
}  // namespace moq_stats::integration
