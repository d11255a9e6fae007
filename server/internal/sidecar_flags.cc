#include "server/internal/sidecar_flags.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "origin_bridge/bridge/origin_url.h"
#include "server/internal/flag_values.h"

namespace moq_stats::server::internal {
namespace {

// An octal file mode such as 0660 or 660, at most 0777.
absl::Status ParseListenMode(const std::string& who, const std::string& text, uint32_t* out) {
  uint32_t mode = 0;
  bool ok = !text.empty() && text.size() <= 4;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '7';
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!ok || mode > 0777) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not an octal file mode (0600, 0660)"));
  }
  *out = mode;
  return absl::OkStatus();
}

std::string FormatMode(uint32_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "0%03o", static_cast<unsigned>(mode));
  return text;
}

const SidecarFlag kFlags[] = {
    {"stats-prefix", "MOQ_STATS_PREFIX", FlagKind::kValue, "PATH",
     "Top-level path the stats broadcasts are published under; must not be empty while --stats-levels > 0.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->stats.prefix = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.stats.prefix; }},
    {"stats-levels", "MOQ_STATS_LEVELS", FlagKind::kValue, "N",
     "Depth of aggregation: the root plus up to N leading segments of each path; 0 disables the aggregator.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->stats.levels);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.stats.levels); }},
    {"stats-node", "MOQ_STATS_NODE", FlagKind::kValue, "PATH",
     "Suffix telling apart the stats broadcasts of relays sharing a cluster origin; empty for none.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->stats.node = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.stats.node; }},
    {"stats-interval", "MOQ_STATS_INTERVAL", FlagKind::kValue, "DURATION",
     "Time between two ticks of a level's publisher; must be positive.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->stats.interval);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.stats.interval); }},
    {"stats-retention", "MOQ_STATS_RETENTION", FlagKind::kValue, "DURATION",
     "How long an unreferenced, stopped level is kept before it is freed.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->stats.retention);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.stats.retention); }},
    {"stats-format", "MOQ_STATS_FORMAT", FlagKind::kValue, "levels|node|levels,node",
     "Which stats broadcasts to publish: the level format (one broadcast per prefix level, four tracks), moq's "
     "node format (one broadcast per node with every live path), or both.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       if (v == "levels") {
         c->stats.publish_levels = true;
         c->stats.count_paths = false;
       } else if (v == "node") {
         c->stats.publish_levels = false;
         c->stats.count_paths = true;
       } else if (v == "levels,node" || v == "node,levels") {
         c->stats.publish_levels = true;
         c->stats.count_paths = true;
       } else {
         return absl::InvalidArgumentError(absl::StrCat(who, ": \"", v, "\" is not levels, node or levels,node"));
       }
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) {
       if (!c.stats.count_paths) return std::string("levels");
       return std::string(c.stats.publish_levels ? "levels,node" : "node");
     }},
    {"stats-depth", "MOQ_STATS_DEPTH", FlagKind::kValue, "N",
     "Node format: group the broadcast paths by their first N segments, one broadcast "
     "<prefix>/<group>/node/<node> per group; 0 for one broadcast <prefix>/node/<node>.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->stats_depth);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.stats_depth); }},
    {"listen", "MOQ_STATS_LISTEN", FlagKind::kList, "ADDRESS",
     "gRPC endpoint, unix:PATH (relative: under the working directory) or HOST:PORT. Repeat for several; given "
     "on the command line it replaces the default list. The variable takes a comma-separated list.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->listen.push_back(v);
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return absl::StrJoin(c.listen, ","); }, [](SidecarConfig* c) { c->listen.clear(); }},
    {"admin-listen", "MOQ_STATS_ADMIN_LISTEN", FlagKind::kValue, "HOST:PORT",
     "HTTP admin listener (/healthz, /metrics); empty disables it.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->admin_listen = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.admin_listen; }},
    {"admin-max-connections", "MOQ_STATS_ADMIN_MAX_CONNECTIONS", FlagKind::kValue, "N",
     "Admin HTTP connections open at once; more are closed as soon as accepted. At least 1.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->admin_max_connections);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.admin_max_connections); }},
    {"admin-idle-timeout", "MOQ_STATS_ADMIN_IDLE_TIMEOUT", FlagKind::kValue, "DURATION",
     "An admin HTTP connection idle this long (or sending a request this slowly) is closed; must be positive.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->admin_idle_timeout);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.admin_idle_timeout); }},
    {"metrics-max-levels", "MOQ_STATS_METRICS_MAX_LEVELS", FlagKind::kValue, "N",
     "Levels whose series /metrics exports at most: once exported a level stays while it exists, the room left "
     "goes to the shallowest levels, then in key order; 0 exports none.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint64(who, v, &c->metrics_max_levels);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.metrics_max_levels); }},
    {"origin-url", "MOQ_STATS_ORIGIN_URL", FlagKind::kValue, "URL",
     "Relay to publish the stats broadcasts into: ws://HOST[:PORT]/PATH[?jwt=TOKEN] (QMux over WebSocket) or "
     "tcp://HOST:PORT[/PATH[?jwt=TOKEN]] (plain QMux); reconnects with backoff. No TLS: put a local TLS terminator in "
     "front. Empty: "
     "no dialling. The token is never shown.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->origin_url = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return bridge::RedactOriginUrl(c.origin_url); }},
    {"moq-listen", "MOQ_STATS_MOQ_LISTEN", FlagKind::kValue, "HOST:PORT",
     "Where MoQ clients may subscribe to the stats broadcasts (moq-lite over QMux over WebSocket), or off. An "
     "address given explicitly must be free; the default only warns when it is taken.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->moq_listen = v;
       c->moq_listen_given = true;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.moq_listen; }},
    {"moq-max-sessions", "MOQ_STATS_MOQ_MAX_SESSIONS", FlagKind::kValue, "N",
     "MoQ client sessions served on --moq-listen at once; a client beyond is closed after its handshake. At least "
     "1.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->moq_max_sessions);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.moq_max_sessions); }},
    {"moq-idle-timeout", "MOQ_STATS_MOQ_IDLE_TIMEOUT", FlagKind::kValue, "DURATION",
     "A MoQ client session on --moq-listen that holds no subscription this long (from its start or the end of its "
     "last subscription) is closed to free its slot; 0: never.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->moq_idle_timeout);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.moq_idle_timeout); }},
    {"grace", "MOQ_STATS_GRACE", FlagKind::kValue, "DURATION",
     "How long a session whose stream ended may be resumed before its guards are closed.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->grace);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.grace); }},
    {"checkpoint-path", "MOQ_STATS_CHECKPOINT_PATH", FlagKind::kValue, "PATH",
     "Checkpoint file (relative: under the working directory); empty disables checkpoints.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->checkpoint_path = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.checkpoint_path; }},
    {"checkpoint-interval", "MOQ_STATS_CHECKPOINT_INTERVAL", FlagKind::kValue, "DURATION",
     "Time between two checkpoints; must be positive.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->checkpoint_interval);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.checkpoint_interval); }},
    {"max-sessions", "MOQ_STATS_MAX_SESSIONS", FlagKind::kValue, "N",
     "Sessions known at once (attached or in their grace); at least 1.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->max_sessions);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.max_sessions); }},
    {"max-handles", "MOQ_STATS_MAX_HANDLES", FlagKind::kValue, "N",
     "Handles one session may have defined at once; at least 1.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->max_handles);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.max_handles); }},
    {"max-batch-entries", "MOQ_STATS_MAX_BATCH_ENTRIES", FlagKind::kValue, "N",
     "Defines + deltas + releases + open entries in one batch; at least 4 (a handle's define, two deltas and release).",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->max_batch_entries);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.max_batch_entries); }},
    {"max-levels", "MOQ_STATS_MAX_LEVELS", FlagKind::kValue, "N", "Levels the aggregator may hold at once; at least 1.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) { return ParseUint64(who, v, &c->max_levels); },
     [](const SidecarConfig& c) { return absl::StrCat(c.max_levels); }},
    {"max-tiers", "MOQ_STATS_MAX_TIERS", FlagKind::kValue, "N",
     "Node format: named tiers (other than the default tier and internal) held at once; a define of a new one "
     "past it is refused (RESOURCE_EXHAUSTED). 0: none.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->stats.max_tiers);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.stats.max_tiers); }},
    {"max-session-roots", "MOQ_STATS_MAX_SESSION_ROOTS", FlagKind::kValue, "N",
     "Node format: (tier, auth root) pairs of session presence held at once; a presence define of a new one past "
     "it is refused (RESOURCE_EXHAUSTED). 0: none.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseUint32(who, v, &c->stats.max_session_roots);
     },
     [](const SidecarConfig& c) { return absl::StrCat(c.stats.max_session_roots); }},
    {"shutdown-timeout", "MOQ_STATS_SHUTDOWN_TIMEOUT", FlagKind::kValue, "DURATION",
     "How long a graceful shutdown waits for streams.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->shutdown_timeout);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.shutdown_timeout); }},
    {"log-level", "MOQ_STATS_LOG_LEVEL", FlagKind::kValue, "LEVEL",
     "Least severe messages logged: debug, info, warning or error.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseLogLevelValue(who, v, &c->log_level);
     },
     [](const SidecarConfig& c) { return std::string(LogLevelName(c.log_level)); }},
    {"auth-token-file", "MOQ_STATS_AUTH_TOKEN_FILE", FlagKind::kValue, "PATH",
     "Bearer tokens TCP callers must present as `authorization: Bearer TOKEN` metadata: one per line (several let a "
     "token be rotated), at least 16 printable characters each; blank and # lines are skipped. The tokens are never "
     "logged or shown. The unix sockets need none.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->auth.token_file = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.auth.token_file; }},
    {"tls-cert", "MOQ_STATS_TLS_CERT", FlagKind::kValue, "PATH",
     "Certificate chain (PEM) for TLS on every TCP listener; needs --tls-key.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->auth.tls_cert = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.auth.tls_cert; }},
    {"tls-key", "MOQ_STATS_TLS_KEY", FlagKind::kValue, "PATH", "Private key (PEM) of --tls-cert.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->auth.tls_key = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.auth.tls_key; }},
    {"tls-client-ca", "MOQ_STATS_TLS_CLIENT_CA", FlagKind::kValue, "PATH",
     "CA certificates (PEM) that client certificates are verified against (mutual TLS); a verified client is "
     "authenticated. Without --auth-token-file a client certificate is required.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->auth.tls_client_ca = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.auth.tls_client_ca; }},
    {"allow-unauthenticated-reads", "MOQ_STATS_ALLOW_UNAUTHENTICATED_READS", FlagKind::kBool, nullptr,
     "Let ListLevels, GetLevel, Watch and GetInfo through on TCP without credentials; Session still needs them.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseBool(who, v, &c->auth.allow_unauthenticated_reads);
     },
     [](const SidecarConfig& c) { return std::string(c.auth.allow_unauthenticated_reads ? "true" : "false"); }},
    {"insecure-listen", "MOQ_STATS_INSECURE_LISTEN", FlagKind::kBool, nullptr,
     "Allow a TCP listener beyond loopback with neither --auth-token-file nor --tls-client-ca: anyone who can connect "
     "may write counts.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseBool(who, v, &c->auth.insecure_listen);
     },
     [](const SidecarConfig& c) { return std::string(c.auth.insecure_listen ? "true" : "false"); }},
    {"listen-mode", "MOQ_STATS_LISTEN_MODE", FlagKind::kValue, "OCTAL",
     "File mode of the unix sockets, set after they are bound; whoever may connect is trusted.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseListenMode(who, v, &c->listen_mode);
     },
     [](const SidecarConfig& c) { return FormatMode(c.listen_mode); }},
    {"listen-group", "MOQ_STATS_LISTEN_GROUP", FlagKind::kValue, "GROUP",
     "Group (name or gid) of the unix sockets, so a relay running as another user in that group can connect; empty: "
     "the daemon's own.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->listen_group = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.listen_group; }},
    {"expose-grpc-introspection", "MOQ_STATS_EXPOSE_GRPC_INTROSPECTION", FlagKind::kBool, nullptr,
     "Register gRPC reflection and channelz even when a TCP listener reaches beyond loopback (by default they are "
     "registered only when every listener is loopback or unix). gRPC serves them on every listener.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseBool(who, v, &c->expose_grpc_introspection);
     },
     [](const SidecarConfig& c) { return std::string(c.expose_grpc_introspection ? "true" : "false"); }},
    {"shutdown-delay", "MOQ_STATS_SHUTDOWN_DELAY", FlagKind::kValue, "DURATION",
     "After SIGTERM, how long to stay unready (/readyz 503, systemd STOPPING=1) while still serving, before "
     "draining; a second SIGTERM ends it early.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->shutdown_delay);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.shutdown_delay); }},
    {"health-probe-interval", "MOQ_STATS_HEALTH_PROBE_INTERVAL", FlagKind::kValue, "DURATION",
     "How often each gRPC listener is probed over a new connection; /healthz fails while one does not answer "
     "two probes in a row. 0 turns probing off.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) {
       return ParseDurationValue(who, v, &c->health_probe_interval);
     },
     [](const SidecarConfig& c) { return absl::FormatDuration(c.health_probe_interval); }},
    {"check-config", nullptr, FlagKind::kBool, nullptr, "Validate the settings, print them and exit.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) { return ParseBool(who, v, &c->check_config); },
     [](const SidecarConfig& c) { return std::string(c.check_config ? "true" : "false"); }},
    {"help", nullptr, FlagKind::kHelp, nullptr, "Print this help and exit.", nullptr, nullptr},
    {"version", nullptr, FlagKind::kVersion, nullptr, "Print the version and exit.", nullptr, nullptr},
};

}  // namespace

absl::Span<const SidecarFlag> SidecarFlags() { return kFlags; }

const SidecarFlag* FindSidecarFlag(std::string_view name) {
  for (const SidecarFlag& flag : kFlags) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

}  // namespace moq_stats::server::internal
