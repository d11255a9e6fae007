#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SERVER_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SERVER_H_

// Serve mode: accepts MoQ clients over WebSocket and serves the origin to
// each over its own moq-lite session (server perspective). Clients beyond
// `max_sessions` are closed right after their handshake.
//
// Runs on one io_context thread: Start may run before the thread does;
// Stop and every handler run on it. Owned through shared_ptr (handlers
// hold weak references).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/refusal_log.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/bridge_status.h"
#include "origin_bridge/bridge/idle_sessions.h"
#include "origin_bridge/bridge/moq_session.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

struct MoqServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free one
  size_t max_sessions = 256;
  MoqSessionOptions session;  // perspective is forced to server
  // How long a session may hold no live subscription before it is closed;
  // zero: never.
  absl::Duration idle_timeout = absl::Seconds(60);
  // What the idle deadlines are read from and kept on; borrowed, they must
  // outlive the server. Without a scheduler no session is closed for
  // idleness.
  const Clock* clock = Clock::Real();
  Scheduler* scheduler = nullptr;
};

class MoqServer : public std::enable_shared_from_this<MoqServer> {
 public:
  // Binds and starts accepting. `io`, `origin` and `board` are borrowed and
  // must outlive the server. Errors name the address.
  static absl::StatusOr<std::shared_ptr<MoqServer>> Start(boost::asio::io_context& io, Origin* origin,
                                                          MoqServerOptions options, StatusBoard* board);
  MoqServer(const MoqServer&) = delete;
  MoqServer& operator=(const MoqServer&) = delete;

  uint16_t port() const { return port_; }

  // Stops accepting and closes every session (application code 0).
  void Stop();

  size_t session_count() const { return sessions_.size(); }

  ~MoqServer();

 private:
  // Shared with the tasks on the scheduler, which may outlive the server:
  // they post a sweep to the io thread while the server is running.
  struct IdleWake {
    absl::Mutex mu;
    boost::asio::io_context* io ABSL_GUARDED_BY(mu) = nullptr;  // null once stopped
    std::weak_ptr<MoqServer> server;                            // set before the first task
    void Post();
  };

  MoqServer(boost::asio::io_context& io, Origin* origin, MoqServerOptions options, StatusBoard* board);
  void OnAccepted(std::unique_ptr<Transport> transport);
  void OnSessionEnded(uint64_t id);
  void OnSubscribed(uint64_t id, bool subscribed);
  // Closes the sessions past the idle timeout, then schedules the next sweep.
  void SweepIdle();
  // Schedules a sweep at the earliest idle deadline unless one is due by then.
  void ScheduleIdleSweep();

  boost::asio::io_context& io_;
  Origin* const origin_;
  MoqServerOptions options_;
  StatusBoard* const board_;
  std::unique_ptr<WebSocketListener> listener_;
  uint16_t port_ = 0;
  std::map<uint64_t, std::shared_ptr<MoqSession>> sessions_;
  uint64_t next_session_id_;
  // Clients refused over the limit, kept until their close completes.
  std::map<uint64_t, std::unique_ptr<Transport>> refused_;
  uint64_t next_refused_id_ = 0;
  uint64_t refused_total_ = 0;
  RefusalLog refusals_;               // when refusals are logged
  std::optional<IdleSessions> idle_;  // set when idle_timeout is positive
  std::shared_ptr<IdleWake> idle_wake_ = std::make_shared<IdleWake>();
  absl::Time idle_sweep_at_ = absl::InfiniteFuture();  // the sweep scheduled, if any
  bool stopped_ = false;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_MOQ_SERVER_H_
