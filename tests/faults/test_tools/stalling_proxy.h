#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_STALLING_PROXY_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_STALLING_PROXY_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace moq_stats {
namespace faults {
namespace test {

// A loopback TCP proxy between relays and the daemon's TCP listener that a
// test can make misbehave like a network: hold every byte from the daemon
// (the relay's acknowledgements stop arriving while its batches still
// reach the daemon), cut every connection, and refuse new ones for a while.
// One thread per connection, each polling with a short timeout; everything
// stops when this goes.
class StallingProxy {
 public:
  explicit StallingProxy(int upstream_port);
  ~StallingProxy();
  StallingProxy(const StallingProxy&) = delete;
  StallingProxy& operator=(const StallingProxy&) = delete;

  // The port relays connect to ("127.0.0.1:<port>"); 0 when it could not
  // listen.
  int port() const { return port_; }

  // Holds (or again forwards) what the daemon sends.
  void StallReplies(bool stall) { stall_replies_.store(stall, std::memory_order_relaxed); }
  // Closes new connections at once (or accepts them again).
  void RefuseNew(bool refuse) { refuse_new_.store(refuse, std::memory_order_relaxed); }
  // Closes every connection open now, both ways.
  void CutAll() { generation_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void AcceptLoop();
  void Pipe(int client, int upstream, int generation);

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stall_replies_{false};
  std::atomic<bool> refuse_new_{false};
  std::atomic<int> generation_{0};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> pipes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_STALLING_PROXY_H_
