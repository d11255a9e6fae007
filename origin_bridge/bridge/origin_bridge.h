#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_BRIDGE_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_BRIDGE_H_

// The bridge the sidecar owns: publishes an Origin's broadcasts over
// moq-lite, by dialling a relay (`origin_url`), by serving MoQ clients on a
// WebSocket port (`moq_listen`), or both. It owns one io_context thread on
// which its Dialer, MoqServer and every session run.
//
// Stop closes every session gracefully (application close 0, after moving
// out what the origin produced last), waits a bounded time for the
// transports to close, and joins the thread.
//
// Safe for concurrent access from multiple threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/backoff.h"
#include "origin_bridge/bridge/bridge_status.h"
#include "origin_bridge/bridge/moq_session.h"
#include "origin_bridge/bridge/origin_url.h"

namespace moq_stats::bridge {

class Dialer;
class MoqServer;

struct BridgeOptions {
  // Dial mode: --origin-url as given (parsed here; the status shows it
  // redacted). Empty: no dialling.
  std::string origin_url;
  // Serve mode: where to accept MoQ clients. nullopt: no serving.
  std::optional<ListenAddress> moq_listen;
  // When false, a moq_listen that cannot be bound is logged as a warning
  // and the bridge runs without serving; when true, Start fails.
  bool listen_failure_is_fatal = true;
  size_t max_serve_sessions = 256;
  // Serve mode: a session holding no live subscription this long is closed
  // (MoqServerOptions::idle_timeout); zero: never.
  absl::Duration serve_idle_timeout = absl::Seconds(60);
  // Where serve mode reads the time and keeps its idle deadlines; borrowed.
  // Without a scheduler the bridge drives one of its own with `clock`.
  const Clock* clock = Clock::Real();
  Scheduler* scheduler = nullptr;
  // Every session, dialled or accepted (the mode sets the perspective).
  MoqSessionOptions session;
  // Dial mode: how long one attempt may take, and the waits between them.
  absl::Duration dial_timeout = absl::Seconds(10);
  BackoffOptions backoff;
  uint64_t backoff_seed = 0;  // 0: a random seed
  // How long Stop waits for sessions to close.
  absl::Duration stop_timeout = absl::Seconds(2);
};

class OriginBridge {
 public:
  // `origin` is borrowed and must outlive the bridge. Errors: a malformed
  // origin_url (INVALID_ARGUMENT), a moq_listen that cannot be bound (when
  // fatal). Either error names the address.
  static absl::StatusOr<std::unique_ptr<OriginBridge>> Start(Origin* origin, BridgeOptions options);
  ~OriginBridge();  // Stop() if not done yet
  OriginBridge(const OriginBridge&) = delete;
  OriginBridge& operator=(const OriginBridge&) = delete;

  BridgeStatus status() const;

  // The port serve mode listens on; 0 when not serving.
  uint16_t serve_port() const { return serve_port_; }

  void Stop();

 private:
  OriginBridge(Origin* origin, BridgeOptions options);
  absl::Status Init();

  Origin* const origin_;
  const BridgeOptions options_;
  StatusBoard board_;
  // The scheduler serve mode uses when none was given; the thread stops
  // before the scheduler goes.
  std::unique_ptr<Scheduler> own_scheduler_;
  std::unique_ptr<SchedulerThread> own_scheduler_thread_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  // Touched on the io thread only once the thread runs.
  std::shared_ptr<Dialer> dialer_;
  std::shared_ptr<MoqServer> server_;
  uint16_t serve_port_ = 0;
  std::thread thread_;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_BRIDGE_H_
