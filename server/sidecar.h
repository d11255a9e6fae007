#ifndef MOQ_STATS_SERVER_SIDECAR_H_
#define MOQ_STATS_SERVER_SIDECAR_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "moq/stats/v1/stats.pb.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/origin_bridge.h"
#include "server/admin/admin_api.h"
#include "server/admin/admin_http_server.h"
#include "server/admin/level_metrics.h"
#include "server/admin/sidecar_metrics.h"
#include "server/grpc/stats_service.h"
#include "server/grpc_listener_probe.h"
#include "server/instance_lock.h"
#include "server/node/node_publisher.h"
#include "server/sessions/session_registry.h"
#include "server/sidecar_config.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// The moq-stats-sidecar daemon's parts, wired together and running: the
// aggregator with its publishers and the in-memory origin, the session
// registry, the gRPC server (StatsService, health, reflection, channelz),
// the HTTP admin listener, the checkpointer and the moq-lite bridge that
// publishes the origin's broadcasts to a relay and to MoQ clients.
//
// Start takes the instance lock beside the checkpoint first (one sidecar per
// checkpoint; a second one fails to start), refuses a unix socket another
// process still serves, then restores the last checkpoint (a corrupt one, or
// one whose counts break the invariants, is moved aside and the sidecar
// starts empty). Shutdown is graceful: health goes NOT_SERVING, new
// sessions and batches are refused, every stream is ended so relays
// reconnect to the successor, publishers tick a last time, the bridge sends
// those last frames and closes its sessions, a final checkpoint is written,
// and the gRPC server shuts down within the timeout.
//
// Safe for concurrent access from multiple threads.
class Sidecar {
 public:
  static absl::StatusOr<std::unique_ptr<Sidecar>> Start(const SidecarConfig& config);
  ~Sidecar();  // Shutdown() if not done yet
  Sidecar(const Sidecar&) = delete;
  Sidecar& operator=(const Sidecar&) = delete;

  void Shutdown();

  // Turns unready (/readyz answers 503) without draining anything yet: the
  // first thing done at SIGTERM, so load balancers stop sending new work
  // while the sidecar still serves. Shutdown does it too.
  void StopBeingReady();
  // Empty while ready for traffic (the checkpoint restored, the gRPC
  // listeners accepting, no shutdown begun), else why not.
  std::string Readiness() const;

  // Where the gRPC server listens ("unix:/abs/path", "127.0.0.1:50051"; a
  // port 0 in the config shows the port chosen) and the admin port (0: off).
  const std::vector<std::string>& listening() const { return listening_; }
  int admin_port() const { return admin_ ? admin_->port() : 0; }

  // The /metrics body and the GetInfo answer.
  std::string MetricsText() const;
  moq::stats::v1::GetInfoResponse Info() const;

  Stats& stats() { return stats_; }
  Origin& origin() { return origin_; }

  // The bridge's status; nullopt when it does not run.
  std::optional<bridge::BridgeStatus> BridgeStatus() const;
  // The port serve mode listens on (0: off).
  int moq_port() const { return bridge_ ? bridge_->serve_port() : 0; }

  // Captures and writes a checkpoint now (no-op without a checkpoint path).
  absl::Status WriteCheckpoint();

 private:
  explicit Sidecar(const SidecarConfig& config);
  absl::Status Init();
  // Resolves the checkpoint path and takes its instance lock.
  absl::Status LockInstance();
  void RestoreCheckpoint();
  absl::Status StartGrpc();
  // --listen-mode and --listen-group on the unix sockets.
  absl::Status SetSocketPermissions();
  absl::Status StartBridge();
  void CheckpointLoop();
  std::string Health() const;
  MetricInputs CurrentMetricInputs() const;

  // Constant after Init.
  const SidecarConfig config_;
  std::string checkpoint_path_;                  // resolved (ResolveCheckpointPath); empty: off
  std::unique_ptr<InstanceLock> instance_lock_;  // held from Init to the end of Shutdown
  const absl::Time started_;
  const Clock* const clock_;
  // The level series of /metrics and their selection.
  const std::unique_ptr<LevelMetrics> level_metrics_;
  Origin origin_;
  Scheduler scheduler_;
  std::unique_ptr<SchedulerThread> scheduler_thread_;
  Stats stats_;
  // The node format's publisher, when it is published.
  std::shared_ptr<NodePublisher> node_publisher_;
  std::shared_ptr<SessionRegistry> registry_;
  std::unique_ptr<StatsService> service_;
  std::shared_ptr<grpc::ServerCredentials> tcp_credentials_;  // TLS or plaintext, per --tls-cert
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> listening_;
  std::vector<std::string> unix_sockets_;  // files to remove at shutdown
  // The JSON API and the page; outlives admin_, which routes to it.
  std::unique_ptr<AdminApi> admin_api_;
  std::unique_ptr<AdminHttpServer> admin_;
  std::atomic<const AdminHttpServer*> admin_view_{nullptr};  // admin_ for the metrics, while it serves
  std::unique_ptr<GrpcListenerProbe> probe_;                 // null when --health-probe-interval=0
  std::thread checkpointer_;
  std::unique_ptr<bridge::OriginBridge> bridge_;  // null when neither dialling nor serving
  // Set once Init succeeded; a sidecar that failed to start writes no
  // checkpoint (it served nothing, and must not replace one it restored).
  bool init_done_ = false;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // StopBeingReady was called
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_checkpoint_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t checkpoints_written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t checkpoint_failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool checkpoint_failing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one writer at a time
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SIDECAR_H_
