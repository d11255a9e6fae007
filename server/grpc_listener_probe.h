#ifndef MOQ_STATS_SERVER_GRPC_LISTENER_PROBE_H_
#define MOQ_STATS_SERVER_GRPC_LISTENER_PROBE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace moq_stats::server {

// Tells whether the daemon's own gRPC listeners still accept: a listener
// whose accepts fail (out of file descriptors, say) leaves the process up
// and its port bound while nobody can connect, which a health check that
// only asks the process itself would never see.
//
// A thread of its own probes every target each interval over a fresh
// connection (its own subchannel, never one reused from an earlier probe):
// connect, HTTP/2 handshake and a grpc.health.v1.Health/Check call, within
// the timeout. A listener is failing once its last `failures_to_fail` probes
// in a row failed, and healthy again after one that succeeds. Between probes
// the thread sleeps; each probe costs one connection per target.
//
// Safe for concurrent access from multiple threads.
class GrpcListenerProbe {
 public:
  struct Options {
    // gRPC targets as a client dials them: "unix:/abs/path", "127.0.0.1:50051".
    std::vector<std::string> targets;
    absl::Duration interval = absl::Seconds(5);
    absl::Duration timeout = absl::Seconds(2);
    int failures_to_fail = 2;
  };

  // Starts probing (the first probe after one interval).
  explicit GrpcListenerProbe(Options options);
  GrpcListenerProbe(const GrpcListenerProbe&) = delete;
  GrpcListenerProbe& operator=(const GrpcListenerProbe&) = delete;
  // Stops and joins the thread (at most one probe's timeout).
  ~GrpcListenerProbe();

  // "" while every listener accepts, else which do not and why.
  std::string Failure() const;

  // Probes run so far (every target once per probe).
  uint64_t probes() const;

  // One probe of `target` now, on the calling thread: OK when a fresh
  // connection answers a health check within `timeout`, else the reason.
  static absl::Status ProbeOnce(const std::string& target, absl::Duration timeout);

 private:
  struct Target {
    std::string address;
    int failures_in_a_row = 0;
    absl::Status last;
  };

  void Loop();

  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<Target> targets_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t probes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_LISTENER_PROBE_H_
