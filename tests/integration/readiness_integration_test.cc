// End to end: the daemon's readiness as orchestrators see it. /readyz turns
// 200 once the checkpoint is restored and the gRPC listeners accept, and 503
// as soon as SIGTERM arrives, before anything is drained (while /healthz and
// gRPC still answer); systemd gets READY=1 and STOPPING=1 datagrams on
// $NOTIFY_SOCKET at the same moments.

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A bound SOCK_DGRAM unix socket standing in for systemd's notify socket.
class NotifyReceiver {
 public:
  explicit NotifyReceiver(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifyReceiver() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;

  bool bound() const { return bound_; }

  // The next datagram, waiting at most 10 s; nullopt on timeout.
  std::optional<std::string> Receive() {
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[4096];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Sets an environment variable for the daemons started while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

int Status(int admin_port, const std::string& path, std::string* body = nullptr) {
  absl::StatusOr<HttpResponse> response = HttpGet(admin_port, path);
  if (!response.ok()) return -1;
  if (body != nullptr) *body = response->body;
  return response->status;
}

TEST(ReadinessIntegrationTest, ReadyOnceServingUnreadyAtSigtermBeforeDrainingWithSystemdNotified) {
  TempDir tmp;
  NotifyReceiver systemd(tmp.path() + "/notify");
  ASSERT_TRUE(systemd.bound()) << std::strerror(errno);
  ScopedEnv notify_socket("NOTIFY_SOCKET", tmp.path() + "/notify");
  // A long delay that the second SIGTERM cuts short: the unready phase lasts
  // until the test has looked at it.
  DaemonProcess daemon({"--shutdown-delay=10m"});
  ASSERT_TRUE(daemon.Start());

  std::optional<std::string> ready = systemd.Receive();
  ASSERT_TRUE(ready.has_value());
  EXPECT_THAT(*ready, StartsWith("READY=1\n"));
  EXPECT_THAT(*ready, HasSubstr("MAINPID=" + std::to_string(daemon.pid())));
  EXPECT_EQ(Status(daemon.admin_port(), "/readyz"), 200);
  EXPECT_EQ(Status(daemon.admin_port(), "/healthz"), 200);

  daemon.Signal(SIGTERM);
  std::optional<std::string> stopping = systemd.Receive();
  ASSERT_TRUE(stopping.has_value());
  EXPECT_THAT(*stopping, StartsWith("STOPPING=1\n"));
  // Unready from the moment STOPPING=1 went out, while still alive and
  // serving.
  std::string body;
  EXPECT_EQ(Status(daemon.admin_port(), "/readyz", &body), 503);
  EXPECT_EQ(body, "stopping\n");
  EXPECT_EQ(Status(daemon.admin_port(), "/healthz"), 200);
  pb::GetInfoResponse info;
  grpc::Status status = GetInfo(*daemon.NewStub(), &info);
  EXPECT_TRUE(status.ok()) << Describe(status);

  daemon.Signal(SIGTERM);  // ends the delay: drain and exit
  std::optional<int> exit_code = daemon.Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
  EXPECT_THAT(daemon.Log(), HasSubstr("second signal: draining now"));
}

TEST(ReadinessIntegrationTest, WithoutADelayTheDaemonDrainsAtOnceAndAnAbstractNotifySocketIsReached) {
  TempDir tmp;
  // An abstract socket: '@' in NOTIFY_SOCKET, a leading NUL in the address.
  const std::string name = "moq-stats-notify-" + std::to_string(getpid());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
  ScopedEnv notify_socket("NOTIFY_SOCKET", "@" + name);
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buffer[4096];
  ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
  ASSERT_GT(n, 0) << std::strerror(errno);
  EXPECT_THAT(std::string(buffer, static_cast<size_t>(n)), StartsWith("READY=1\n"));
  EXPECT_EQ(daemon.Terminate(), 0);
  n = recv(fd, buffer, sizeof(buffer), 0);
  ASSERT_GT(n, 0) << std::strerror(errno);
  EXPECT_THAT(std::string(buffer, static_cast<size_t>(n)), StartsWith("STOPPING=1\n"));
  close(fd);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
