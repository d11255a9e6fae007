#include "server/sidecar_config.h"

#include <array>
#include <cstddef>
#include <limits>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"
#include "origin_bridge/bridge/origin_url.h"

namespace moq_stats::server {
namespace {

// Names the flag `flag` (without dashes) in an error message: "--flag", or
// the environment variable its value came from.
using FlagNamer = std::function<std::string(const std::string& flag)>;

std::string Quoted(const std::string& text) { return absl::StrCat("\"", absl::CHexEscape(text), "\""); }

// Strict decimal: digits only (no sign, no whitespace), at most `max`.
// False with *overflow = false when `text` is not a whole number, with
// *overflow = true when it is one above `max`.
bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* out, bool* overflow) {
  *overflow = false;
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : text) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      *overflow = true;
      return false;
    }
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

absl::Status ParseNumber(const std::string& who, const std::string& text, uint64_t max, uint64_t* out) {
  bool overflow = false;
  if (ParseDecimal(text, max, out, &overflow)) return absl::OkStatus();
  if (overflow) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is out of range (at most ", max, ")"));
  }
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not a whole number"));
}

absl::Status ParseUint32(const std::string& who, const std::string& text, uint32_t* out) {
  uint64_t value = 0;
  absl::Status s = ParseNumber(who, text, std::numeric_limits<uint32_t>::max(), &value);
  if (s.ok()) *out = static_cast<uint32_t>(value);
  return s;
}

absl::Status ParseUint64(const std::string& who, const std::string& text, uint64_t* out) {
  return ParseNumber(who, text, std::numeric_limits<uint64_t>::max(), out);
}

// A Go-style duration ("500ms", "1m30s") or a plain number of seconds;
// finite and not negative.
absl::Status ParseDurationValue(const std::string& who, const std::string& text, absl::Duration* out) {
  absl::Duration d;
  uint64_t seconds = 0;
  bool overflow = false;
  if (ParseDecimal(text, std::numeric_limits<int64_t>::max(), &seconds, &overflow)) {
    d = absl::Seconds(static_cast<int64_t>(seconds));
  } else if (overflow) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is out of range"));
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, ": ", Quoted(text), " is not a duration (like \"10s\", \"500ms\", \"1m30s\"; a plain number is seconds)"));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not a finite duration"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is negative"));
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseBool(const std::string& who, const std::string& text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not true or false"));
  }
  return absl::OkStatus();
}

absl::Status ParseLogLevelValue(const std::string& who, const std::string& text, LogLevel* out) {
  if (ParseLogLevel(text, out)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(who, ": ", Quoted(text), " is not a log level (debug, info, warning, error)"));
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Addresses.

absl::Status CheckAddress(const std::string& who, const std::string& address, bool unix_allowed) {
  absl::Status status = unix_allowed ? CheckListenAddress(address) : ParseHostPort(address).status();
  if (status.ok()) return status;
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(address), " ", status.message()));
}

// ---------------------------------------------------------------------------
// Stats settings, checked by ValidateStatsConfig (as Stats::Create checks
// them) so the rules live in the stats core.

absl::Status CheckStats(const StatsConfig& config, const FlagNamer& name) {
  absl::Status status = ValidateStatsConfig(config);
  if (status.ok()) return status;
  // Find the setting to blame: each one alone over the defaults.
  struct Probe {
    const char* flag;
    void (*apply)(const StatsConfig& from, StatsConfig* to);
  };
  static constexpr Probe kProbes[] = {
      {"stats-prefix", [](const StatsConfig& from, StatsConfig* to) { to->prefix = from.prefix; }},
      {"stats-node", [](const StatsConfig& from, StatsConfig* to) { to->node = from.node; }},
      {"stats-interval", [](const StatsConfig& from, StatsConfig* to) { to->interval = from.interval; }},
      {"stats-retention", [](const StatsConfig& from, StatsConfig* to) { to->retention = from.retention; }},
  };
  for (const Probe& probe : kProbes) {
    StatsConfig alone;
    alone.levels = config.levels;
    probe.apply(config, &alone);
    absl::Status s = ValidateStatsConfig(alone);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(name(probe.flag), ": ", std::string(s.message())));
  }
  return absl::InvalidArgumentError(absl::StrCat("stats settings: ", std::string(status.message())));
}

absl::Status ValidateWith(const SidecarConfig& config, const FlagNamer& name) {
  if (absl::Status s = CheckStats(config.stats, name); !s.ok()) return s;

  if (config.listen.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name("listen"), ": at least one listen address is needed"));
  }
  std::set<std::string> seen;
  for (const std::string& address : config.listen) {
    if (absl::Status s = CheckAddress(name("listen"), address, true); !s.ok()) return s;
    if (!seen.insert(address).second) {
      return absl::InvalidArgumentError(absl::StrCat(name("listen"), ": ", Quoted(address), " is given twice"));
    }
  }
  if (!config.admin_listen.empty()) {
    if (IsUnixAddress(config.admin_listen)) {
      return absl::InvalidArgumentError(absl::StrCat(name("admin-listen"), ": ", Quoted(config.admin_listen),
                                                     " is a unix socket; the admin listener takes HOST:PORT"));
    }
    if (absl::Status s = CheckAddress(name("admin-listen"), config.admin_listen, false); !s.ok()) return s;
  }

  if (!config.origin_url.empty()) {
    absl::StatusOr<bridge::DialTarget> target = bridge::ParseOriginUrl(config.origin_url);
    if (!target.ok()) {
      // The message quotes the value with its token redacted.
      return absl::InvalidArgumentError(absl::StrCat(name("origin-url"), ": ", target.status().message()));
    }
  }
  if (absl::StatusOr<std::optional<bridge::ListenAddress>> listen = bridge::ParseMoqListen(config.moq_listen);
      !listen.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name("moq-listen"), ": ", listen.status().message()));
  }

  auto check_duration = [&](const char* flag, absl::Duration d, bool positive) -> absl::Status {
    if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(name(flag), ": must be finite"));
    }
    if (positive ? d <= absl::ZeroDuration() : d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          name(flag), positive ? ": must be positive" : ": must not be negative", ", got ", absl::FormatDuration(d)));
    }
    return absl::OkStatus();
  };
  auto check_min = [&](const char* flag, uint64_t value, uint64_t min = 1) -> absl::Status {
    if (value >= min) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(name(flag), ": must be at least ", min, ", got ", value));
  };
  if (absl::Status s = check_duration("grace", config.grace, false); !s.ok()) return s;
  if (absl::Status s = check_duration("checkpoint-interval", config.checkpoint_interval, true); !s.ok()) return s;
  if (absl::Status s = check_min("max-sessions", config.max_sessions); !s.ok()) return s;
  if (absl::Status s = check_min("max-handles", config.max_handles); !s.ok()) return s;
  // A handle's define, two deltas and release must fit in one batch.
  if (absl::Status s = check_min("max-batch-entries", config.max_batch_entries, 4); !s.ok()) return s;
  if (absl::Status s = check_min("max-levels", config.max_levels); !s.ok()) return s;
  if (absl::Status s = check_duration("shutdown-timeout", config.shutdown_timeout, false); !s.ok()) return s;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The flags, in the order --help and DescribeSidecarConfig list them.

enum class FlagKind {
  kValue,    // takes a value
  kBool,     // needs no value; takes =true/=false
  kHelp,     // --help, -h
  kVersion,  // --version
};

struct FlagSpec {
  const char* name;  // without the dashes
  const char* env;   // nullptr when it has none
  FlagKind kind;
  const char* value_name;  // what --help shows as its value
  const char* help;
  // Sets the setting from `value`; `who` names the flag or variable in
  // errors. For --listen, appends one address (the caller clears the list
  // first). nullptr for --help and --version.
  absl::Status (*set)(const std::string& who, const std::string& value, SidecarConfig* config);
  // The setting as text. nullptr for --help and --version.
  std::string (*get)(const SidecarConfig& config);
};

constexpr const char* kListenFlag = "listen";

const FlagSpec kFlags[] = {
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
    {kListenFlag, "MOQ_STATS_LISTEN", FlagKind::kValue, "ADDRESS",
     "gRPC endpoint, unix:PATH (relative: under the working directory) or HOST:PORT. Repeat for several; given "
     "on the command line it replaces the default list. The variable takes a comma-separated list.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->listen.push_back(v);
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return absl::StrJoin(c.listen, ","); }},
    {"admin-listen", "MOQ_STATS_ADMIN_LISTEN", FlagKind::kValue, "HOST:PORT",
     "HTTP admin listener (/healthz, /metrics); empty disables it.",
     [](const std::string&, const std::string& v, SidecarConfig* c) {
       c->admin_listen = v;
       return absl::OkStatus();
     },
     [](const SidecarConfig& c) { return c.admin_listen; }},
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
    {"check-config", nullptr, FlagKind::kBool, nullptr, "Validate the settings, print them and exit.",
     [](const std::string& who, const std::string& v, SidecarConfig* c) { return ParseBool(who, v, &c->check_config); },
     [](const SidecarConfig& c) { return std::string(c.check_config ? "true" : "false"); }},
    {"help", nullptr, FlagKind::kHelp, nullptr, "Print this help and exit.", nullptr, nullptr},
    {"version", nullptr, FlagKind::kVersion, nullptr, "Print the version and exit.", nullptr, nullptr},
};
constexpr size_t kNumFlags = sizeof(kFlags) / sizeof(kFlags[0]);

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

size_t FlagIndex(const FlagSpec* spec) { return static_cast<size_t>(spec - kFlags); }

// Appends `text` wrapped at `width` columns, each line indented by `indent`.
void AppendWrapped(const std::string& text, size_t indent, size_t width, std::string* out) {
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      absl::StrAppend(out, std::string(indent, ' '), line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(out, std::string(indent, ' '), line, "\n");
}

}  // namespace

absl::StatusOr<ParsedSidecarFlags> ParseSidecarFlags(const std::vector<std::string>& args, const GetEnvFn& getenv) {
  ParsedSidecarFlags parsed;

  // The command line first, keeping the values as text: --help and --version
  // win over anything else on it, and over a malformed environment.
  std::array<std::vector<std::string>, kNumFlags> given;
  absl::Status scan_error;
  auto fail = [&scan_error](absl::Status s) {
    if (scan_error.ok()) scan_error = std::move(s);
  };
  bool help = false;
  bool version = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      help = true;
      continue;
    }
    if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) {
      if (arg.size() >= 2 && arg[0] == '-' && arg != "--") {
        fail(absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg, "; see --help")));
      } else {
        fail(absl::InvalidArgumentError(
            absl::StrCat("unexpected argument ", Quoted(arg), ": the daemon takes only flags; see --help")));
      }
      continue;
    }
    std::string body = arg.substr(2);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr) {
      fail(absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, "; see --help")));
      continue;
    }
    std::string who = absl::StrCat("--", name);
    switch (spec->kind) {
      case FlagKind::kHelp:
      case FlagKind::kVersion:
        if (eq != std::string::npos) {
          fail(absl::InvalidArgumentError(absl::StrCat(who, " takes no value")));
        } else {
          (spec->kind == FlagKind::kHelp ? help : version) = true;
        }
        break;
      case FlagKind::kBool:
        given[FlagIndex(spec)].push_back(eq == std::string::npos ? "true" : body.substr(eq + 1));
        break;
      case FlagKind::kValue:
        if (eq != std::string::npos) {
          given[FlagIndex(spec)].push_back(body.substr(eq + 1));
        } else if (i + 1 < args.size()) {
          given[FlagIndex(spec)].push_back(args[++i]);
        } else {
          fail(absl::InvalidArgumentError(absl::StrCat(who, ": missing value")));
        }
        break;
    }
  }
  if (help) {
    parsed.command = SidecarCommand::kHelp;
    return parsed;
  }
  if (version) {
    parsed.command = SidecarCommand::kVersion;
    return parsed;
  }
  if (!scan_error.ok()) return scan_error;

  // Then each setting from the command line, or else from its variable.
  std::array<bool, kNumFlags> from_env{};
  SidecarConfig& config = parsed.config;
  for (size_t i = 0; i < kNumFlags; ++i) {
    const FlagSpec& spec = kFlags[i];
    if (spec.set == nullptr) continue;
    std::vector<std::string> values = given[i];
    std::string who = absl::StrCat("--", spec.name);
    if (values.empty()) {
      const char* env = spec.env != nullptr && getenv ? getenv(spec.env) : nullptr;
      if (env == nullptr) continue;
      from_env[i] = true;
      who = spec.env;
      if (spec.name == std::string_view(kListenFlag)) {
        for (absl::string_view entry : absl::StrSplit(env, ',')) {
          absl::string_view trimmed = absl::StripAsciiWhitespace(entry);
          if (!trimmed.empty()) values.emplace_back(trimmed);
        }
      } else {
        values.emplace_back(env);
      }
    }
    if (spec.name == std::string_view(kListenFlag)) config.listen.clear();
    for (const std::string& value : values) {
      if (absl::Status s = spec.set(who, value, &config); !s.ok()) return s;
    }
  }

  FlagNamer name = [&from_env](const std::string& flag) {
    const FlagSpec* spec = FindFlag(flag);
    if (spec != nullptr && from_env[FlagIndex(spec)]) return std::string(spec->env);
    return absl::StrCat("--", flag);
  };
  if (absl::Status s = ValidateWith(config, name); !s.ok()) return s;
  return parsed;
}

absl::Status ValidateSidecarConfig(const SidecarConfig& config) {
  return ValidateWith(config, [](const std::string& flag) { return absl::StrCat("--", flag); });
}

std::vector<std::string> UnknownSidecarEnv(const std::vector<std::string>& names) {
  std::vector<std::string> unknown;
  for (const std::string& name : names) {
    if (name.compare(0, 10, "MOQ_STATS_") != 0) continue;
    bool known = false;
    for (const FlagSpec& spec : kFlags) known = known || (spec.env != nullptr && name == spec.env);
    if (!known) unknown.push_back(name);
  }
  return unknown;
}

std::string SidecarUsage() {
  std::string out =
      "Usage: moq-stats-sidecar [FLAG]...\n"
      "\n"
      "Aggregates the traffic counters Media-over-QUIC relays send over gRPC into\n"
      "per-prefix levels, published back as stats broadcasts.\n"
      "\n"
      "Each flag may also be set through the environment variable shown with it;\n"
      "the command line wins. Values go as --flag=VALUE or --flag VALUE. A DURATION\n"
      "is Go-style (\"500ms\", \"10s\", \"1m30s\"); a plain number is seconds.\n"
      "\n"
      "Flags:\n";
  const SidecarConfig defaults;
  for (const FlagSpec& spec : kFlags) {
    std::string head = absl::StrCat("  --", spec.name);
    if (spec.kind == FlagKind::kHelp) absl::StrAppend(&head, ", -h");
    if (spec.kind == FlagKind::kValue) absl::StrAppend(&head, "=", spec.value_name);
    std::vector<std::string> notes;
    if (spec.env != nullptr) notes.push_back(absl::StrCat("env ", spec.env));
    if (spec.get != nullptr && spec.kind == FlagKind::kValue) {
      std::string value = spec.get(defaults);
      notes.push_back(absl::StrCat("default ", value.empty() ? "\"\"" : value));
    }
    if (!notes.empty()) absl::StrAppend(&head, "  (", absl::StrJoin(notes, "; "), ")");
    absl::StrAppend(&out, head, "\n");
    AppendWrapped(spec.help, 6, 79, &out);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DescribeSidecarConfig(const SidecarConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const FlagSpec& spec : kFlags) {
    if (spec.get != nullptr) out.emplace_back(spec.name, spec.get(config));
  }
  return out;
}

}  // namespace moq_stats::server
