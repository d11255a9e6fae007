// End to end: the real daemon under a low open-file limit (set on the
// running process with prlimit). Idle connections to the admin listener
// cannot take its descriptors (the listener holds at most
// --admin-max-connections), so the gRPC listeners keep serving; and when the
// descriptors do run out (connections to the gRPC port, which has no cap of
// its own), /healthz says so instead of staying 200, and afterwards says
// whether the gRPC listeners accept again.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

// The daemon's open-file limit during the test, and how many idle
// connections are thrown at it: well past the limit.
constexpr rlim_t kFileLimit = 128;
constexpr int kFlood = 300;

// A loopback TCP connection, closed when destroyed; fd -1 when connecting
// failed.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool ok() const { return fd_ >= 0; }

  // Sends GET /healthz (keep-alive) and returns the status code of the
  // answer, or 0 when none came within `timeout`.
  int Healthz(absl::Duration timeout) {
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) return 0;
    std::string got;
    const absl::Time deadline = absl::Now() + timeout;
    // Head and body are small; read until both are in (content-length).
    while (absl::Now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[1024];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return 0;
      got.append(buf, size_t(n));
      size_t head_end = got.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      size_t cl = got.find("Content-Length: ");
      if (cl == std::string::npos) cl = got.find("content-length: ");
      size_t length = 0;
      if (cl == std::string::npos || !absl::SimpleAtoi(got.substr(cl + 16, got.find("\r\n", cl) - cl - 16), &length)) {
        return 0;
      }
      if (got.size() < head_end + 4 + length) continue;
      int status = 0;
      if (!absl::SimpleAtoi(got.substr(9, 3), &status)) return 0;
      return status;
    }
    return 0;
  }

 private:
  int fd_ = -1;
};

size_t OpenDescriptors(pid_t pid) {
  size_t count = 0;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return 0;
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

// GetInfo over a new channel (a new connection) to `target`.
grpc::Status FreshGetInfo(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = pb::StatsService::NewStub(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
  pb::GetInfoRequest request;
  pb::GetInfoResponse response;
  return stub->GetInfo(&context, request, &response);
}

// Waits (bounded) until `probe()` returns `want`.
template <typename F>
bool WaitFor(F probe, int want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (probe() == want) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

class DescriptorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc_port_ = PickFreeLoopbackPort();
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{absl::StrCat("--listen=127.0.0.1:", grpc_port_),
                                                                       "--admin-max-connections=16",
                                                                       "--health-probe-interval=200ms"});
    ASSERT_TRUE(daemon_->Start());
    EXPECT_THAT(daemon_->Log(), HasSubstr("open files: soft limit"));
    rlimit low{kFileLimit, kFileLimit};
    ASSERT_EQ(prlimit(daemon_->pid(), RLIMIT_NOFILE, &low, nullptr), 0) << "prlimit: " << std::strerror(errno);
    ASSERT_LT(OpenDescriptors(daemon_->pid()), kFileLimit - 40) << "the daemon already uses most of the limit";
  }

  void ExpectGrpcServes() {
    grpc::Status unix_status = FreshGetInfo(daemon_->target());
    EXPECT_TRUE(unix_status.ok()) << "unix listener: " << Describe(unix_status);
    grpc::Status tcp_status = FreshGetInfo(absl::StrCat("127.0.0.1:", grpc_port_));
    EXPECT_TRUE(tcp_status.ok()) << "TCP listener: " << Describe(tcp_status);
  }

  int grpc_port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DescriptorIntegrationTest, IdleAdminConnectionsCannotTakeTheGrpcListenersDescriptors) {
  // The first connection is served and kept, to ask /healthz while the
  // others hold (or try to hold) every place.
  RawConnection watcher(daemon_->admin_port());
  ASSERT_TRUE(watcher.ok());
  ASSERT_EQ(watcher.Healthz(absl::Seconds(5)), 200);
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < kFlood; ++i) flood.push_back(std::make_unique<RawConnection>(daemon_->admin_port()));
  // Connections past the cap are closed by the daemon as they come: its
  // descriptors stay well under the limit.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(OpenDescriptors(daemon_->pid()), kFileLimit - 16);
  ExpectGrpcServes();
  EXPECT_EQ(watcher.Healthz(absl::Seconds(5)), 200);
  flood.clear();
  ExpectGrpcServes();
  EXPECT_TRUE(WaitFor([&] { return watcher.Healthz(absl::Seconds(5)); }, 200, absl::Seconds(5)));
  EXPECT_THAT(daemon_->Log(), HasSubstr("admin HTTP server: refused"));
}

TEST_F(DescriptorIntegrationTest, HealthFailsWhileTheGrpcListenersCannotAccept) {
  RawConnection watcher(daemon_->admin_port());
  ASSERT_TRUE(watcher.ok());
  ASSERT_EQ(watcher.Healthz(absl::Seconds(5)), 200);
  // Connections to the gRPC port: gRPC accepts them until the daemon runs
  // out of descriptors; then nothing new gets in.
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < kFlood; ++i) flood.push_back(std::make_unique<RawConnection>(grpc_port_));
  EXPECT_TRUE(WaitFor([&] { return watcher.Healthz(absl::Seconds(5)); }, 503, absl::Seconds(10)))
      << "/healthz stayed 200 while the daemon had no descriptor left";
  // Gone again: /healthz follows what a new gRPC connection gets.
  flood.clear();
  const bool healthy = WaitFor([&] { return watcher.Healthz(absl::Seconds(5)); }, 200, absl::Seconds(10));
  const grpc::Status after = FreshGetInfo(absl::StrCat("127.0.0.1:", grpc_port_));
  // Whether gRPC 1.51's TCP listener accepts again after accept4 failed
  // with EMFILE is gRPC's; what /healthz says about it is ours.
  EXPECT_EQ(healthy, after.ok()) << "health " << (healthy ? "ok" : "failing") << " but gRPC: " << Describe(after);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
