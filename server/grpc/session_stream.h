#ifndef MOQ_STATS_SERVER_GRPC_SESSION_STREAM_H_
#define MOQ_STATS_SERVER_GRPC_SESSION_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "server/grpc/stream_set.h"
#include "server/sessions/session_registry.h"

namespace moq_stats::server {

// How long a Session stream may hold a gRPC stream without a session.
struct SessionStreamOptions {
  // The open deadline runs on them; null: no deadline. Must outlive every
  // stream.
  Scheduler* scheduler = nullptr;
  const Clock* clock = nullptr;
  // A stream that has not sent a valid open this long after it started is
  // ended with DEADLINE_EXCEEDED: a stream that never speaks holds no
  // session, but it holds memory and a stream of the connection.
  absl::Duration open_timeout = absl::Seconds(5);
};

// The transport of one relay's Session RPC: reads requests, hands them to the
// SessionRegistry, and writes the welcome and acks back. Acks are coalesced:
// while one is being written, later batches only raise the sequence the next
// ack carries.
//
// A stream that ends without Close detaches its session (its grace period
// starts); a bad request ends the stream with the registry's status, and the
// session survives for a resume. A stream that loses its session (taken over,
// or evicted for a new one) ends with the registry's reason. One that sends
// no open within the open timeout ends with DEADLINE_EXCEEDED. Created by the
// service per call; frees itself in OnDone.
class SessionStream final
    : public grpc::ServerBidiReactor<moq::stats::v1::SessionRequest, moq::stats::v1::SessionResponse> {
 public:
  // `registry`, `streams` and `open_timeouts` must outlive the stream (the
  // service keeps them); `open_timeouts` counts the streams ended for want
  // of an open.
  SessionStream(std::shared_ptr<SessionRegistry> registry, StreamSet* streams, const SessionStreamOptions& options,
                std::atomic<uint64_t>* open_timeouts);

  // Ends the stream with `status` (used to close every stream at shutdown).
  void End(const grpc::Status& status);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void Process();
  // The open deadline passed.
  void OpenDeadline(absl::Duration timeout);
  void DetachLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<SessionRegistry> registry_;
  StreamSet* const streams_;
  // Relaxed: a self-counter, it orders nothing.
  std::atomic<uint64_t>* const open_timeouts_;
  // For the take-over callback the registry holds, which may run after
  // this stream is gone, and for the StreamSet's ender.
  const StreamLink<SessionStream> link_;

  // Written by gRPC before OnReadDone; read only there.
  moq::stats::v1::SessionRequest request_;

  absl::Mutex mu_;
  SessionRegistry::Attachment attachment_ ABSL_GUARDED_BY(mu_);
  bool attached_ ABSL_GUARDED_BY(mu_) = false;  // holds the session (not yet detached, closed or taken over)
  bool welcome_pending_ ABSL_GUARDED_BY(mu_) = false;
  moq::stats::v1::Welcome welcome_ ABSL_GUARDED_BY(mu_);
  uint64_t ack_wanted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ack_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;                       // a write failed
  moq::stats::v1::SessionResponse response_ ABSL_GUARDED_BY(mu_);  // the write in flight
  bool finish_wanted_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_SESSION_STREAM_H_
