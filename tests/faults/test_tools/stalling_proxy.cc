#include "tests/faults/test_tools/stalling_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace moq_stats {
namespace faults {
namespace test {
namespace {

constexpr int kPollMs = 20;

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Copies what `from` has (one read) to `to`; false when `from` ended or
// either failed.
bool Forward(int from, int to) {
  char buf[16384];
  const ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t sent = 0; sent < n;) {
    const ssize_t w = write(to, buf + sent, static_cast<size_t>(n - sent));
    if (w <= 0) return false;
    sent += w;
  }
  return true;
}

}  // namespace

StallingProxy::StallingProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

StallingProxy::~StallingProxy() {
  stop_.store(true, std::memory_order_relaxed);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> pipes;
  {
    absl::MutexLock lock(&mu_);
    pipes.swap(pipes_);
  }
  for (std::thread& t : pipes) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void StallingProxy::AcceptLoop() {
  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd p = {listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kPollMs) <= 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (refuse_new_.load(std::memory_order_relaxed)) {
      close(client);
      continue;
    }
    const int upstream = ConnectLoopback(upstream_port_);
    if (upstream < 0) {
      close(client);
      continue;
    }
    const int generation = generation_.load(std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    pipes_.emplace_back([this, client, upstream, generation] { Pipe(client, upstream, generation); });
  }
}

void StallingProxy::Pipe(int client, int upstream, int generation) {
  while (!stop_.load(std::memory_order_relaxed) && generation_.load(std::memory_order_relaxed) == generation) {
    const bool replies = !stall_replies_.load(std::memory_order_relaxed);
    pollfd p[2] = {{client, POLLIN, 0}, {upstream, static_cast<short>(replies ? POLLIN : 0), 0}};
    if (poll(p, 2, kPollMs) <= 0) continue;
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !Forward(client, upstream)) break;
    if (replies && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !Forward(upstream, client)) break;
  }
  close(client);
  close(upstream);
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
