#ifndef MOQ_STATS_SERVER_SIDECAR_CONFIG_H_
#define MOQ_STATS_SERVER_SIDECAR_CONFIG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "server/auth/listener_security.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// Everything the moq-stats-sidecar daemon can be told, with its defaults.
struct SidecarConfig {
  // --stats-prefix, --stats-levels, --stats-node, --stats-interval,
  // --stats-retention.
  StatsConfig stats;
  // --stats-format: which formats are published (levels, node or both, as
  // stats.publish_levels and stats.count_paths), and --stats-depth: the
  // node format's grouping depth (moq-relay's --stats-depth).
  uint32_t stats_depth = 0;
  // --listen (repeatable): gRPC endpoints, each "unix:PATH" (a relative PATH
  // is under the working directory) or "HOST:PORT".
  std::vector<std::string> listen = {"unix:moq-stats.sock", "127.0.0.1:50051"};
  // --admin-listen: HOST:PORT of the HTTP admin listener (/healthz,
  // /metrics); empty disables it.
  std::string admin_listen = "127.0.0.1:9090";
  // --admin-max-connections: admin connections open at once; more are
  // closed as soon as they are accepted. At least 1.
  uint32_t admin_max_connections = 16;
  // --admin-idle-timeout: an admin connection idle (or sending a request this
  // slowly) is closed. Positive.
  absl::Duration admin_idle_timeout = absl::Seconds(30);
  // --metrics-max-levels: levels whose series /metrics exports at most (see
  // server/admin/level_metrics.h for which); 0 exports none.
  uint64_t metrics_max_levels = 1000;
  // --origin-url: the relay dial mode connects to, ws://HOST[:PORT]/PATH
  // (?jwt=TOKEN) or tcp://HOST:PORT[/PATH?jwt=TOKEN]; empty: no dialling.
  // Shown redacted.
  std::string origin_url;
  // --moq-listen: HOST:PORT where MoQ clients may subscribe over WebSocket,
  // or "off".
  std::string moq_listen = "127.0.0.1:4450";
  // Whether --moq-listen (or its variable) was given: an address given
  // explicitly must be bound, the default may fail with a warning.
  bool moq_listen_given = false;
  // --moq-max-sessions: MoQ client sessions served at once.
  uint32_t moq_max_sessions = 256;
  // --moq-idle-timeout: how long a MoQ client session may hold no
  // subscription before it is closed; zero: never.
  absl::Duration moq_idle_timeout = absl::Seconds(60);
  // --grace: how long a session whose stream ended may be resumed before its
  // guards are closed.
  absl::Duration grace = absl::Seconds(10);
  // --checkpoint-path: where the checkpoint file lives (relative: under the
  // working directory); empty disables checkpoints.
  std::string checkpoint_path = "moq-stats.checkpoint";
  // --checkpoint-interval
  absl::Duration checkpoint_interval = absl::Seconds(1);
  // --max-sessions: sessions known at once (attached or in their grace).
  uint32_t max_sessions = 1024;
  // --max-handles: handles one session may have defined at once.
  uint32_t max_handles = 65536;
  // --max-batch-entries: defines + deltas + releases + open entries in one
  // batch; at least 4, so a handle's define, deltas and release fit.
  uint32_t max_batch_entries = 4096;
  // --max-levels: levels the aggregator may hold at once.
  uint64_t max_levels = 1'000'000;
  // --shutdown-timeout: how long a graceful shutdown waits for streams.
  absl::Duration shutdown_timeout = absl::Seconds(5);
  // --log-level: debug, info, warning, error.
  LogLevel log_level = LogLevel::kInfo;
  // --check-config: validate, print the settings and exit.
  bool check_config = false;
  // --auth-token-file, --tls-cert, --tls-key, --tls-client-ca,
  // --allow-unauthenticated-reads, --insecure-listen: what the TCP listeners
  // accept (a unix socket is trusted by its file mode).
  AuthConfig auth;
  // --listen-mode: the unix sockets' file mode, set after bind.
  uint32_t listen_mode = 0660;
  // --listen-group: the unix sockets' group (a name or a gid); empty: the
  // daemon's own.
  std::string listen_group;
  // --expose-grpc-introspection: register gRPC reflection and channelz even
  // when a TCP listener reaches beyond loopback (gRPC serves them on every
  // listener of the server, not on some).
  bool expose_grpc_introspection = false;
  // --shutdown-delay: how long the daemon stays unready (/readyz 503,
  // STOPPING=1 sent) but still serving after SIGTERM before it drains, so
  // load balancers stop sending new work first; a second SIGTERM ends the
  // delay early.
  absl::Duration shutdown_delay = absl::ZeroDuration();
  // --health-probe-interval: how often each gRPC listener is probed over a
  // new connection (/healthz fails while one does not answer); 0: never.
  absl::Duration health_probe_interval = absl::Seconds(5);
};

// What the command line asked for.
enum class SidecarCommand {
  kRun,      // run the daemon with the parsed config
  kHelp,     // --help: print SidecarUsage() and exit 0
  kVersion,  // --version: print the version and exit 0
};

struct ParsedSidecarFlags {
  SidecarCommand command = SidecarCommand::kRun;
  SidecarConfig config;
};

// Looks up an environment variable; nullptr when unset.
using GetEnvFn = std::function<const char*(const char*)>;

// Parses the command line (argv[0] is skipped) over the environment: each
// flag has an environment variable (MOQ_STATS_PREFIX, MOQ_STATS_LEVELS, ...;
// see SidecarUsage) and the command line wins over it. Flags take their
// value as `--flag=value` or `--flag value`; boolean flags need no value.
// Durations are Go-style ("1s", "500ms", "1m30s"); a plain number is seconds.
//
// INVALID_ARGUMENT naming the flag (or variable) and the bad value for an
// unknown flag, a missing or malformed value, or a value out of range; the
// daemon prints it and exits with status 2.
absl::StatusOr<ParsedSidecarFlags> ParseSidecarFlags(const std::vector<std::string>& args, const GetEnvFn& getenv);

// Checks the settings that cannot be checked one flag at a time (the stats
// settings with ValidateStatsConfig, listen addresses well-formed, at least
// one listener). Pure: builds no origin, scheduler or clock. INVALID_ARGUMENT
// naming the flag.
absl::Status ValidateSidecarConfig(const SidecarConfig& config);

// The MOQ_STATS_* names among `names` (environment variable names) that no
// flag reads: most likely misspelt, so the daemon warns about them.
std::vector<std::string> UnknownSidecarEnv(const std::vector<std::string>& names);

// The --help text: every flag, its environment variable, its default and
// what it does.
std::string SidecarUsage();

// Every setting as (flag name without dashes, value as text), in flag order;
// what --check-config prints and GetInfo reports.
std::vector<std::pair<std::string, std::string>> DescribeSidecarConfig(const SidecarConfig& config);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SIDECAR_CONFIG_H_
