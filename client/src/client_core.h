#ifndef MOQ_STATS_CLIENT_SRC_CLIENT_CORE_H_
#define MOQ_STATS_CLIENT_SRC_CLIENT_CORE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/src/handle.h"
#include "client/src/session_state.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"

namespace moq_stats {
namespace internal {

// What a Stats shares: the handle table, the session state, the stream to
// the sidecar and the flusher thread that drives them.
//
// The flusher wakes every flush interval (and, once Shutdown began, at each
// ack): it (re)connects when no stream is open (with backoff and jitter),
// hands the handles the relay let go of to the session state, and queues the
// batches the state collects. Nothing else wakes it, so a missing sidecar
// costs one cheap round per flush interval, in Shutdown too. The stream
// is a gRPC callback reactor; its reads and writes report back here. Every
// field is under mu_; gRPC operations are started with mu_ released.
//
// Safe for concurrent access from multiple threads.
class ClientCore {
 public:
  ClientCore(std::string target, Options options);
  // Stops the flusher and cancels the stream (no Close: the sidecar keeps the
  // session for its grace period).
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // The handle of (path, tier), created when missing; null for a path that
  // counts nowhere. `label`: a named tier (normalised, neither "" nor
  // "internal"), or empty for `tier` alone. With `presence`, `path` is an
  // auth root ("" allowed) and the handle counts sessions.
  std::shared_ptr<Handle> GetHandle(std::string_view path, Tier tier, std::string_view label = "",
                                    bool presence = false);

  bool Shutdown(std::chrono::milliseconds deadline);
  ClientCounters counters() const;

 private:
  class Stream;
  using Request = moq::stats::v1::SessionRequest;

  void FlusherLoop();
  // One flusher round under mu_; returns the stream to start, if any.
  Stream* RoundLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueLocked(std::vector<moq::stats::v1::Batch> batches) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next write if none is in flight; call with mu_ released.
  void KickWrite();
  void ReleaseUnreferencedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // From the stream.
  void OnWelcome(Stream* stream, const moq::stats::v1::Welcome& welcome);
  void OnAck(Stream* stream, uint64_t sequence);
  void OnWriteDone(Stream* stream, bool ok);
  void OnStreamDone(Stream* stream, const grpc::Status& status);
  void OnStreamDeleted();

  // Constant after construction.
  const std::string target_;
  const Options options_;
  const std::string session_id_;
  const std::string prefix_;  // normalised
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;

  mutable absl::Mutex mu_;
  // By (path, tier, label, presence).
  std::map<std::tuple<std::string, Tier, std::string, bool>, std::shared_ptr<Handle>> handles_ ABSL_GUARDED_BY(mu_);
  uint32_t next_handle_id_ ABSL_GUARDED_BY(mu_) = 1;
  SessionState state_ ABSL_GUARDED_BY(mu_);

  Stream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;  // owned by gRPC until OnStreamDone
  int streams_alive_ ABSL_GUARDED_BY(mu_) = 0;     // Stream objects not yet deleted
  bool welcomed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Request> writes_ ABSL_GUARDED_BY(mu_);  // front is in flight while writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool open_in_flight_ ABSL_GUARDED_BY(mu_) = false;  // the stream's first write
  bool close_queued_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // Shutdown or destruction began
  bool sending_ ABSL_GUARDED_BY(mu_) = true;    // false once the session is closed
  bool wake_ ABSL_GUARDED_BY(mu_) = false;

  uint64_t streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t batches_sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t deltas_sent_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);

  std::thread flusher_;
};

}  // namespace internal
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_SRC_CLIENT_CORE_H_
