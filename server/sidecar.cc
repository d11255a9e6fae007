#include "server/sidecar.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <grpcpp/ext/channelz_service_plugin.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/host_port.h"
#include "common/logging.h"
#include "origin_bridge/bridge/origin_url.h"
#include "server/admin/admin_api.h"
#include "server/admin/sidecar_metrics.h"
#include "server/sessions/checkpoint_counts.h"
#include "server/sessions/checkpoint_file.h"
#include "server/sessions/checkpoint_path.h"

#ifndef MOQSTATS_VERSION
#define MOQSTATS_VERSION "unknown"
#endif

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// The gid of `group`, a group name or a number.
absl::StatusOr<gid_t> LookUpGroup(const std::string& group) {
  char* end = nullptr;
  errno = 0;
  unsigned long number = std::strtoul(group.c_str(), &end, 10);
  if (!group.empty() && *end == '\0' && errno == 0 && group[0] != '-') return static_cast<gid_t>(number);
  struct group entry {};
  struct group* found = nullptr;
  std::vector<char> buffer(16384);
  int error = getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no group \"", group, "\"", error != 0 ? absl::StrCat(": ", std::strerror(error)) : ""));
  }
  return entry.gr_gid;
}

constexpr char kServiceName[] = "moq.stats.v1.StatsService";
// Large enough for a batch at the default entry limit with long paths.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

std::string Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

pb::BridgeInfo BridgeInfoProto(const bridge::BridgeStatus& status) {
  pb::BridgeInfo out;
  pb::BridgeInfo::Dial* dial = out.mutable_dial();
  dial->set_enabled(status.dial.enabled);
  dial->set_url(status.dial.url);
  dial->set_connected(status.dial.connected);
  dial->set_version(status.dial.version);
  dial->set_subprotocol(status.dial.subprotocol);
  if (status.dial.connected && status.dial.connected_since != absl::InfinitePast()) {
    dial->set_connected_since_unix_ms(absl::ToUnixMillis(status.dial.connected_since));
  }
  dial->set_reconnects(status.dial.reconnects);
  dial->set_last_error(status.dial.last_error);
  pb::BridgeInfo::Serve* serve = out.mutable_serve();
  serve->set_enabled(status.serve.enabled);
  serve->set_listen(status.serve.listen);
  serve->set_sessions(status.serve.sessions);
  serve->set_sessions_total(status.serve.sessions_total);
  serve->set_sessions_refused(status.serve.sessions_refused);
  serve->set_sessions_idle_closed(status.serve.sessions_idle_closed);
  serve->set_last_error(status.serve.last_error);
  const bridge::SessionCounters& t = status.totals;
  out.set_announced_broadcasts(t.announced_broadcasts);
  out.set_subscriptions_active(t.subscriptions_active);
  out.set_subscriptions_served(t.subscriptions_served);
  out.set_groups_sent(t.groups_sent);
  out.set_group_bytes_sent(t.group_bytes_sent);
  out.set_groups_skipped(t.groups_skipped);
  out.set_wire_bytes_sent(t.wire_bytes_sent);
  out.set_wire_bytes_received(t.wire_bytes_received);
  return out;
}

// The gRPC targets a client on this host dials to reach `listening` (as
// listening() has them): a wildcard host is reached on the loopback.
std::vector<std::string> ProbeTargets(const std::vector<std::string>& listening, bool tcp_uses_tls) {
  std::vector<std::string> out;
  for (const std::string& address : listening) {
    // The probe speaks plaintext: TCP listeners behind TLS are left to the
    // orchestrator's own probes (the unix socket is still checked).
    if (tcp_uses_tls && !absl::StartsWith(address, "unix:")) continue;
    if (absl::StartsWith(address, "0.0.0.0:")) {
      out.push_back("127.0.0.1:" + address.substr(8));
    } else if (absl::StartsWith(address, "[::]:")) {
      out.push_back("[::1]:" + address.substr(5));
    } else {
      out.push_back(address);
    }
  }
  return out;
}

}  // namespace

Sidecar::Sidecar(const SidecarConfig& config)
    : config_(config),
      started_(Clock::Real()->Now()),
      clock_(Clock::Real()),
      level_metrics_(std::make_unique<LevelMetrics>(config.metrics_max_levels, config.stats.node)) {}

absl::StatusOr<std::unique_ptr<Sidecar>> Sidecar::Start(const SidecarConfig& config) {
  std::unique_ptr<Sidecar> sidecar(new Sidecar(config));
  if (absl::Status s = sidecar->Init(); !s.ok()) return s;
  return sidecar;
}

absl::Status Sidecar::Init() {
  SetMinLogLevel(config_.log_level);
  // Before any socket or the checkpoint is touched.
  if (absl::Status s = LockInstance(); !s.ok()) return s;
  scheduler_thread_ = std::make_unique<SchedulerThread>(&scheduler_, clock_);
  StatsConfig stats_config = config_.stats;
  stats_config.max_levels = config_.max_levels;
  absl::StatusOr<Stats> stats = Stats::Create(stats_config, &origin_, &scheduler_, clock_);
  if (!stats.ok()) return stats.status();
  stats_ = *stats;
  if (stats_.paths()) {
    NodePublisher::Options node;
    node.origin = &origin_;
    node.scheduler = &scheduler_;
    node.clock = clock_;
    node.paths = stats_.paths();
    node.presence = stats_.presence();
    node.prefix = stats_.prefix();
    node.node = Path(config_.stats.node);
    node.depth = config_.stats_depth;
    node.interval = config_.stats.interval;
    absl::StatusOr<std::shared_ptr<NodePublisher>> publisher = NodePublisher::Create(std::move(node));
    if (!publisher.ok()) return publisher.status();
    node_publisher_ = *std::move(publisher);
  }
  SessionRegistryOptions options;
  options.grace = config_.grace;
  options.max_sessions = config_.max_sessions;
  options.limits.max_handles = config_.max_handles;
  options.limits.max_batch_entries = config_.max_batch_entries;
  registry_ = SessionRegistry::Create(stats_, &scheduler_, clock_, options);
  RestoreCheckpoint();
  if (absl::Status s = StartBridge(); !s.ok()) return s;

  StatsService::Options service_options;
  service_options.session.scheduler = &scheduler_;
  service_options.session.clock = clock_;
  absl::StatusOr<ListenerSecurity> security = LoadListenerSecurity(config_.auth);
  if (!security.ok()) return security.status();
  auto policy = std::make_shared<const CallAuthPolicy>(security->policy);
  service_options.authorize = [policy](const grpc::CallbackServerContext& context, RpcAccess access) {
    return AuthorizeCall(*policy, CredentialsOf(context), access);
  };
  tcp_credentials_ = security->tcp_credentials;
  service_ = std::make_unique<StatsService>(
      stats_, registry_, &origin_, [this] { return Info(); }, service_options);
  if (absl::Status s = StartGrpc(); !s.ok()) return s;

  if (!config_.admin_listen.empty()) {
    AdminHttpServer::Handlers handlers;
    handlers.health = [this] { return Health(); };
    handlers.readiness = [this] { return Readiness(); };
    handlers.metrics = [this] { return MetricsText(); };
    admin_api_ = std::make_unique<AdminApi>(
        stats_, &origin_, [this] { return Info(); }, AdminApi::Options{});
    handlers.routes = [api = admin_api_.get()](const AdminRequest& request) { return api->Route(request); };
    AdminHttpServer::Limits limits;
    limits.max_connections = config_.admin_max_connections;
    limits.idle_timeout = config_.admin_idle_timeout;
    absl::StatusOr<std::unique_ptr<AdminHttpServer>> admin =
        AdminHttpServer::Start(config_.admin_listen, handlers, limits);
    if (!admin.ok()) {
      server_->Shutdown(std::chrono::system_clock::now());
      return absl::Status(admin.status().code(), absl::StrCat("--admin-listen: ", admin.status().message()));
    }
    admin_ = *std::move(admin);
    admin_view_.store(admin_.get(), std::memory_order_release);
  }
  if (config_.health_probe_interval > absl::ZeroDuration()) {
    GrpcListenerProbe::Options probe;
    probe.targets = ProbeTargets(listening_, config_.auth.tls());
    probe.interval = config_.health_probe_interval;
    probe_ = std::make_unique<GrpcListenerProbe>(probe);
  }
  if (!checkpoint_path_.empty()) checkpointer_ = std::thread([this] { CheckpointLoop(); });
  init_done_ = true;
  absl::MutexLock lock(&mu_);
  // The checkpoint is restored and the gRPC listeners accept.
  ready_ = !stopping_;
  return absl::OkStatus();
}

absl::Status Sidecar::LockInstance() {
  if (config_.checkpoint_path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> resolved = ResolveCheckpointPath(config_.checkpoint_path);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--checkpoint-path: ", resolved.status().message()));
  }
  checkpoint_path_ = *resolved;
  absl::StatusOr<std::unique_ptr<InstanceLock>> lock = InstanceLock::Acquire(InstanceLockPath(checkpoint_path_));
  if (!lock.ok()) return lock.status();
  instance_lock_ = *std::move(lock);
  return absl::OkStatus();
}

void Sidecar::RestoreCheckpoint() {
  if (checkpoint_path_.empty()) return;
  absl::StatusOr<pb::Checkpoint> checkpoint = ReadCheckpointFile(checkpoint_path_, clock_->UnixMillis());
  if (!checkpoint.ok()) {
    if (absl::IsNotFound(checkpoint.status())) {
      MOQSTATS_LOG(INFO) << "no checkpoint at " << checkpoint_path_ << "; starting empty";
    } else {
      MOQSTATS_LOG(ERROR) << "cannot restore the checkpoint: " << checkpoint.status().message() << "; starting empty";
    }
    return;
  }
  // Counts that would break the invariants once restored: corrupt too.
  if (absl::Status counts = CheckCheckpointCounts(*checkpoint, stats_); !counts.ok()) {
    absl::StatusOr<std::string> aside = MoveCheckpointAside(checkpoint_path_, clock_->UnixMillis());
    MOQSTATS_LOG(ERROR) << "checkpoint " << checkpoint_path_ << " is refused (" << counts.message() << "); "
                        << (aside.ok() ? "moved it aside to " + *aside : std::string(aside.status().message()))
                        << "; starting empty";
    return;
  }
  absl::Status restored = registry_->Restore(*checkpoint);
  if (!restored.ok()) {
    MOQSTATS_LOG(ERROR) << "checkpoint " << checkpoint_path_ << " restored in part: " << restored.message();
  }
  MOQSTATS_LOG(INFO) << "restored checkpoint " << checkpoint_path_ << " taken at unix ms "
                     << checkpoint->taken_unix_ms() << ": " << checkpoint->levels_size() << " levels, "
                     << checkpoint->sessions_size() << " sessions (each resumable for "
                     << absl::FormatDuration(config_.grace) << ")";
}

absl::Status Sidecar::StartGrpc() {
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC registers reflection and channelz for the whole server, on every
  // listener: only when none reaches beyond this machine, unless asked for.
  bool local_only = true;
  for (const std::string& listen : config_.listen) {
    if (absl::StartsWith(listen, "unix:")) continue;
    absl::StatusOr<HostPort> host_port = ParseHostPort(listen);
    local_only = local_only && host_port.ok() && IsLoopbackHost(host_port->host);
  }
  if (local_only || config_.expose_grpc_introspection) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::channelz::experimental::InitChannelzService();
  } else {
    MOQSTATS_LOG(INFO) << "gRPC reflection and channelz are off: a listener reaches beyond loopback "
                          "(--expose-grpc-introspection turns them on)";
  }
  if (!config_.auth.authenticates()) {
    for (const std::string& listen : config_.listen) {
      if (absl::StartsWith(listen, "unix:")) continue;
      MOQSTATS_LOG(WARNING) << "--listen " << listen << " accepts writes from anyone who can connect to it; "
                            << "set --auth-token-file or --tls-client-ca, or listen on a unix socket only";
    }
  }

  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // gRPC sets SO_REUSEPORT by default: a second sidecar on the same port
  // would bind it too and take half the relays.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<std::unique_ptr<int>> ports;
  std::vector<std::string> addresses;
  for (const std::string& listen : config_.listen) {
    if (absl::StartsWith(listen, "unix:")) {
      std::string path = Absolute(listen.substr(5));
      if (absl::Status s = RemoveStaleSocket(path); !s.ok()) return s;
      builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
      unix_sockets_.push_back(path);
      addresses.push_back("unix:" + path);
      ports.push_back(nullptr);
    } else {
      ports.push_back(std::make_unique<int>(0));
      builder.AddListeningPort(listen, tcp_credentials_, ports.back().get());
      addresses.push_back(listen);
    }
  }
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", absl::StrJoin(config_.listen, ", "), " (address in use or not allowed?)"));
  }
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (ports[i] == nullptr) {
      listening_.push_back(addresses[i]);
      continue;
    }
    if (*ports[i] == 0) {
      server_->Shutdown(std::chrono::system_clock::now());
      return absl::UnavailableError(absl::StrCat("--listen ", addresses[i], ": cannot bind"));
    }
    std::string host = addresses[i].substr(0, addresses[i].rfind(':'));
    listening_.push_back(absl::StrCat(host, ":", *ports[i]));
  }
  if (absl::Status s = SetSocketPermissions(); !s.ok()) {
    server_->Shutdown(std::chrono::system_clock::now());
    return s;
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);
  return absl::OkStatus();
}

absl::Status Sidecar::SetSocketPermissions() {
  gid_t gid = static_cast<gid_t>(-1);  // chown leaves it as it is
  if (!config_.listen_group.empty()) {
    absl::StatusOr<gid_t> found = LookUpGroup(config_.listen_group);
    if (!found.ok()) return absl::InvalidArgumentError(absl::StrCat("--listen-group: ", found.status().message()));
    gid = *found;
  }
  for (const std::string& path : unix_sockets_) {
    if (gid != static_cast<gid_t>(-1) && chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
      return absl::PermissionDeniedError(absl::StrCat("--listen-group: cannot give ", path, " to group ",
                                                      config_.listen_group, ": ", std::strerror(errno),
                                                      " (the daemon's user must be in that group)"));
    }
    if (chmod(path.c_str(), static_cast<mode_t>(config_.listen_mode)) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("--listen-mode: cannot set it on ", path, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status Sidecar::StartBridge() {
  bridge::BridgeOptions options;
  options.origin_url = config_.origin_url;
  absl::StatusOr<std::optional<bridge::ListenAddress>> listen = bridge::ParseMoqListen(config_.moq_listen);
  if (!listen.ok()) return absl::InvalidArgumentError(absl::StrCat("--moq-listen: ", listen.status().message()));
  options.moq_listen = *listen;
  options.listen_failure_is_fatal = config_.moq_listen_given;
  options.max_serve_sessions = config_.moq_max_sessions;
  options.serve_idle_timeout = config_.moq_idle_timeout;
  options.clock = clock_;
  options.scheduler = &scheduler_;
  if (options.origin_url.empty() && !options.moq_listen.has_value()) return absl::OkStatus();
  if (!options.origin_url.empty()) {
    absl::StatusOr<bridge::DialTarget> target = bridge::ParseOriginUrl(options.origin_url);
    if (!target.ok()) return absl::InvalidArgumentError(absl::StrCat("--origin-url: ", target.status().message()));
  }
  // With the URL checked, what can still fail is binding --moq-listen.
  absl::StatusOr<std::unique_ptr<bridge::OriginBridge>> started = bridge::OriginBridge::Start(&origin_, options);
  if (!started.ok()) {
    return absl::Status(started.status().code(), absl::StrCat("--moq-listen: ", started.status().message()));
  }
  bridge_ = *std::move(started);
  return absl::OkStatus();
}

std::optional<bridge::BridgeStatus> Sidecar::BridgeStatus() const {
  if (!bridge_) return std::nullopt;
  return bridge_->status();
}

void Sidecar::StopBeingReady() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  ready_ = false;
}

std::string Sidecar::Readiness() const {
  absl::MutexLock lock(&mu_);
  if (ready_) return "";
  return stopping_ ? "stopping" : "starting";
}

std::string Sidecar::Health() const {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return "shutting down";
  }
  return probe_ ? probe_->Failure() : "";
}

void Sidecar::CheckpointLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutting_down_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), config_.checkpoint_interval)) return;
    }
    // Errors are logged and counted inside.
    WriteCheckpoint().IgnoreError();
  }
}

absl::Status Sidecar::WriteCheckpoint() {
  if (checkpoint_path_.empty()) return absl::OkStatus();
  absl::MutexLock writer(&checkpoint_mu_);
  pb::Checkpoint checkpoint = registry_->Capture(clock_->UnixMillis());
  absl::Status status = WriteCheckpointFile(checkpoint_path_, checkpoint);
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    last_checkpoint_ = clock_->Now();
    ++checkpoints_written_;
    if (checkpoint_failing_) MOQSTATS_LOG(INFO) << "checkpoints are written again to " << checkpoint_path_;
    checkpoint_failing_ = false;
  } else {
    ++checkpoint_failures_;
    // Logged when it starts failing, not every interval.
    if (!checkpoint_failing_) MOQSTATS_LOG(ERROR) << "cannot write the checkpoint: " << status.message();
    checkpoint_failing_ = true;
  }
  return status;
}

MetricInputs Sidecar::CurrentMetricInputs() const {
  MetricInputs in;
  in.stats = &stats_;
  in.sessions = registry_->counts();
  in.session_streams = service_->session_streams();
  in.watch_streams = service_->watch_streams();
  in.session_open_timeouts = service_->session_open_timeouts();
  in.uptime = clock_->Now() - started_;
  in.checkpoints_enabled = !checkpoint_path_.empty();
  in.bridge = BridgeStatus();
  // Read on the admin server's own thread too: through the pointer published
  // once it started (and withdrawn before it is destroyed).
  if (const AdminHttpServer* admin = admin_view_.load(std::memory_order_acquire)) {
    in.admin_connections = admin->connections();
    in.admin_connections_refused = admin->connections_refused();
  }
  absl::MutexLock lock(&mu_);
  if (last_checkpoint_ != absl::InfinitePast()) in.checkpoint_age = clock_->Now() - last_checkpoint_;
  in.checkpoints_written = checkpoints_written_;
  in.checkpoint_failures = checkpoint_failures_;
  return in;
}

std::string Sidecar::MetricsText() const {
  std::string text = RenderPrometheus(CollectSidecarMetrics(CurrentMetricInputs()));
  PrometheusText levels;
  level_metrics_->Render(stats_, &levels);
  text += levels.Take();
  return text;
}

pb::GetInfoResponse Sidecar::Info() const {
  pb::GetInfoResponse info;
  info.set_version(MOQSTATS_VERSION);
  for (const auto& [name, value] : DescribeSidecarConfig(config_)) (*info.mutable_config())[name] = value;
  info.set_uptime_seconds(absl::ToDoubleSeconds(clock_->Now() - started_));
  MetricInputs inputs = CurrentMetricInputs();
  for (const auto& [name, value] : MetricsByName(CollectSidecarMetrics(inputs))) {
    (*info.mutable_counters())[name] = value;
  }
  if (inputs.bridge.has_value()) *info.mutable_bridge() = BridgeInfoProto(*inputs.bridge);
  return info;
}

void Sidecar::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    stopping_ = true;
    ready_ = false;
  }
  MOQSTATS_LOG(INFO) << "shutting down";
  if (server_) {
    grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
    health->SetServingStatus(kServiceName, false);
    health->SetServingStatus(false);
  }
  // No batch is applied from here on; those in flight finish first.
  if (registry_) registry_->Drain();
  if (service_) {
    service_->EndAllStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the sidecar is shutting down; reconnect"));
  }
  size_t ticked = stats_.TickAll();
  if (node_publisher_) ticked += node_publisher_->Tick() > 0 ? 1 : 0;
  // After the final tick, so its frames (and any unannounce) go out first.
  if (bridge_) bridge_->Stop();
  if (node_publisher_) node_publisher_->Stop();
  if (checkpointer_.joinable()) checkpointer_.join();
  const bool write_checkpoint = registry_ && init_done_;
  absl::Status checkpoint = write_checkpoint ? WriteCheckpoint() : absl::OkStatus();
  if (!checkpoint.ok()) MOQSTATS_LOG(ERROR) << "final checkpoint failed: " << checkpoint.message();
  if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.shutdown_timeout));
  admin_view_.store(nullptr, std::memory_order_release);
  admin_.reset();
  probe_.reset();  // after admin_, whose /healthz reads it
  scheduler_thread_.reset();
  scheduler_.Shutdown();
  for (const std::string& path : unix_sockets_) unlink(path.c_str());
  // Last: a successor that waited for the lock finds no socket of ours.
  instance_lock_.reset();
  MOQSTATS_LOG(INFO) << "shut down: final tick on " << ticked << " publishers"
                     << (checkpoint_path_.empty() || !write_checkpoint
                             ? ""
                             : absl::StrCat(", checkpoint ", checkpoint_path_));
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

Sidecar::~Sidecar() { Shutdown(); }

}  // namespace moq_stats::server
