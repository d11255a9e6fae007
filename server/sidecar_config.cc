#include "server/sidecar_config.h"

#include <cstddef>
#include <optional>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"
#include "common/status_macros.h"
#include "origin_bridge/bridge/origin_url.h"
#include "server/internal/flag_values.h"
#include "server/internal/sidecar_flags.h"

namespace moq_stats::server {
namespace {

using internal::FlagKind;
using internal::Quoted;
using internal::SidecarFlag;
using internal::SidecarFlags;

// Names the flag `flag` (without dashes) in an error message: "--flag", or
// the environment variable its value came from.
using FlagNamer = std::function<std::string(const std::string& flag)>;

size_t FlagIndex(const SidecarFlag& flag) { return static_cast<size_t>(&flag - SidecarFlags().data()); }

bool TakesValue(FlagKind kind) { return kind == FlagKind::kValue || kind == FlagKind::kList; }

// ---------------------------------------------------------------------------
// The checks across settings, in the order they are made.

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

absl::Status CheckAddress(const std::string& who, const std::string& address, bool unix_allowed) {
  absl::Status status = unix_allowed ? CheckListenAddress(address) : ParseHostPort(address).status();
  if (status.ok()) return status;
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(address), " ", status.message()));
}

// At least one gRPC listener, each well-formed and given once; the admin
// listener, when on, at a HOST:PORT.
absl::Status CheckListeners(const SidecarConfig& config, const FlagNamer& name) {
  if (config.listen.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name("listen"), ": at least one listen address is needed"));
  }
  std::set<std::string> seen;
  for (const std::string& address : config.listen) {
    RETURN_IF_ERROR(CheckAddress(name("listen"), address, true));
    if (!seen.insert(address).second) {
      return absl::InvalidArgumentError(absl::StrCat(name("listen"), ": ", Quoted(address), " is given twice"));
    }
  }
  if (config.admin_listen.empty()) return absl::OkStatus();
  if (IsUnixAddress(config.admin_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(name("admin-listen"), ": ", Quoted(config.admin_listen),
                                                   " is a unix socket; the admin listener takes HOST:PORT"));
  }
  return CheckAddress(name("admin-listen"), config.admin_listen, false);
}

// --origin-url and --moq-listen, read as the bridge will read them.
absl::Status CheckBridge(const SidecarConfig& config, const FlagNamer& name) {
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
  return absl::OkStatus();
}

absl::Status CheckDuration(const std::string& who, absl::Duration d, bool positive) {
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": must be finite"));
  }
  if (positive ? d <= absl::ZeroDuration() : d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, positive ? ": must be positive" : ": must not be negative",
                                                   ", got ", absl::FormatDuration(d)));
  }
  return absl::OkStatus();
}

absl::Status CheckAtLeast(const std::string& who, uint64_t value, uint64_t min) {
  if (value >= min) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(who, ": must be at least ", min, ", got ", value));
}

// The session limits and the daemon's own durations.
absl::Status CheckLimits(const SidecarConfig& config, const FlagNamer& name) {
  RETURN_IF_ERROR(CheckDuration(name("grace"), config.grace, false));
  RETURN_IF_ERROR(CheckDuration(name("checkpoint-interval"), config.checkpoint_interval, true));
  RETURN_IF_ERROR(CheckAtLeast(name("max-sessions"), config.max_sessions, 1));
  RETURN_IF_ERROR(CheckAtLeast(name("max-handles"), config.max_handles, 1));
  // A handle's define, two deltas and release must fit in one batch.
  RETURN_IF_ERROR(CheckAtLeast(name("max-batch-entries"), config.max_batch_entries, 4));
  RETURN_IF_ERROR(CheckAtLeast(name("max-levels"), config.max_levels, 1));
  RETURN_IF_ERROR(CheckAtLeast(name("admin-max-connections"), config.admin_max_connections, 1));
  RETURN_IF_ERROR(CheckDuration(name("admin-idle-timeout"), config.admin_idle_timeout, true));
  RETURN_IF_ERROR(CheckAtLeast(name("moq-max-sessions"), config.moq_max_sessions, 1));
  RETURN_IF_ERROR(CheckDuration(name("moq-idle-timeout"), config.moq_idle_timeout, false));
  RETURN_IF_ERROR(CheckDuration(name("shutdown-delay"), config.shutdown_delay, false));
  RETURN_IF_ERROR(CheckDuration(name("health-probe-interval"), config.health_probe_interval, false));
  return CheckDuration(name("shutdown-timeout"), config.shutdown_timeout, false);
}

absl::Status ValidateWith(const SidecarConfig& config, const FlagNamer& name) {
  RETURN_IF_ERROR(CheckStats(config.stats, name));
  RETURN_IF_ERROR(CheckListeners(config, name));
  RETURN_IF_ERROR(CheckAuthConfig(config.auth, config.listen, name));
  RETURN_IF_ERROR(CheckBridge(config, name));
  return CheckLimits(config, name);
}

// ---------------------------------------------------------------------------
// Reading the command line and the environment.

// The command line with its values kept as text, so that --help and
// --version win over anything else on it, and over a malformed environment.
struct CommandLine {
  bool help = false;
  bool version = false;
  absl::Status error;  // the first error on the line
  // Per flag, in table order, the values given.
  std::vector<std::vector<std::string>> values;
};

// Reads args[*i] into `line`; a flag that takes a value and has none after
// '=' takes the next argument (*i moves on to it).
absl::Status ScanArgument(const std::vector<std::string>& args, size_t* i, CommandLine* line) {
  const std::string& arg = args[*i];
  if (arg == "-h") {
    line->help = true;
    return absl::OkStatus();
  }
  if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) {
    if (arg.size() >= 2 && arg[0] == '-' && arg != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg, "; see --help"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument ", Quoted(arg), ": the daemon takes only flags; see --help"));
  }
  const std::string body = arg.substr(2);
  const size_t eq = body.find('=');
  const std::string name = body.substr(0, eq);
  const SidecarFlag* flag = internal::FindSidecarFlag(name);
  if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, "; see --help"));
  std::vector<std::string>& values = line->values[FlagIndex(*flag)];
  switch (flag->kind) {
    case FlagKind::kHelp:
    case FlagKind::kVersion:
      if (eq != std::string::npos) return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      (flag->kind == FlagKind::kHelp ? line->help : line->version) = true;
      break;
    case FlagKind::kBool:
      values.push_back(eq == std::string::npos ? "true" : body.substr(eq + 1));
      break;
    case FlagKind::kValue:
    case FlagKind::kList:
      if (eq != std::string::npos) {
        values.push_back(body.substr(eq + 1));
      } else if (*i + 1 < args.size()) {
        values.push_back(args[++*i]);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
      }
      break;
  }
  return absl::OkStatus();
}

CommandLine ScanCommandLine(const std::vector<std::string>& args) {
  CommandLine line;
  line.values.resize(SidecarFlags().size());
  for (size_t i = 1; i < args.size(); ++i) {
    absl::Status status = ScanArgument(args, &i, &line);
    if (line.error.ok()) line.error = std::move(status);
  }
  return line;
}

// The values of `flag` from its environment variable; nullopt when it has
// none or it is unset. A kList flag's variable is a comma-separated list.
std::optional<std::vector<std::string>> EnvValues(const SidecarFlag& flag, const GetEnvFn& getenv) {
  const char* env = flag.env != nullptr && getenv ? getenv(flag.env) : nullptr;
  if (env == nullptr) return std::nullopt;
  if (flag.kind != FlagKind::kList) return std::vector<std::string>{env};
  std::vector<std::string> values;
  for (absl::string_view entry : absl::StrSplit(env, ',')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(entry);
    if (!trimmed.empty()) values.emplace_back(trimmed);
  }
  return values;
}

// Sets `flag`'s setting from `values`, which came from `who`: the last one
// wins, or for a kList flag they make up the list.
absl::Status ApplyFlag(const SidecarFlag& flag, const std::string& who, const std::vector<std::string>& values,
                       SidecarConfig* config) {
  if (flag.clear != nullptr) flag.clear(config);
  for (const std::string& value : values) RETURN_IF_ERROR(flag.set(who, value, config));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// --help.

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

// One flag's entry in --help: the flag, its variable and default, and what
// it does.
std::string FlagUsage(const SidecarFlag& flag, const SidecarConfig& defaults) {
  std::string head = absl::StrCat("  --", flag.name);
  if (flag.kind == FlagKind::kHelp) absl::StrAppend(&head, ", -h");
  if (TakesValue(flag.kind)) absl::StrAppend(&head, "=", flag.value_name);
  std::vector<std::string> notes;
  if (flag.env != nullptr) notes.push_back(absl::StrCat("env ", flag.env));
  if (flag.get != nullptr && (TakesValue(flag.kind) || flag.env != nullptr)) {
    std::string value = flag.get(defaults);
    notes.push_back(absl::StrCat("default ", value.empty() ? "\"\"" : value));
  }
  if (!notes.empty()) absl::StrAppend(&head, "  (", absl::StrJoin(notes, "; "), ")");
  std::string out = absl::StrCat(head, "\n");
  AppendWrapped(flag.help, 6, 79, &out);
  return out;
}

}  // namespace

absl::StatusOr<ParsedSidecarFlags> ParseSidecarFlags(const std::vector<std::string>& args, const GetEnvFn& getenv) {
  ParsedSidecarFlags parsed;
  CommandLine line = ScanCommandLine(args);
  if (line.help) {
    parsed.command = SidecarCommand::kHelp;
    return parsed;
  }
  if (line.version) {
    parsed.command = SidecarCommand::kVersion;
    return parsed;
  }
  if (!line.error.ok()) return line.error;

  // Each setting from the command line, or else from its variable.
  const absl::Span<const SidecarFlag> flags = SidecarFlags();
  std::vector<bool> from_env(flags.size(), false);
  for (const SidecarFlag& flag : flags) {
    if (flag.set == nullptr) continue;
    std::vector<std::string>& values = line.values[FlagIndex(flag)];
    std::string who = absl::StrCat("--", flag.name);
    if (values.empty()) {
      std::optional<std::vector<std::string>> env_values = EnvValues(flag, getenv);
      if (!env_values.has_value()) continue;
      values = *std::move(env_values);
      who = flag.env;
      from_env[FlagIndex(flag)] = true;
    }
    RETURN_IF_ERROR(ApplyFlag(flag, who, values, &parsed.config));
  }

  FlagNamer name = [&from_env](const std::string& flag_name) {
    const SidecarFlag* flag = internal::FindSidecarFlag(flag_name);
    if (flag != nullptr && from_env[FlagIndex(*flag)]) return std::string(flag->env);
    return absl::StrCat("--", flag_name);
  };
  RETURN_IF_ERROR(ValidateWith(parsed.config, name));
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
    for (const SidecarFlag& flag : SidecarFlags()) known = known || (flag.env != nullptr && name == flag.env);
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
  for (const SidecarFlag& flag : SidecarFlags()) absl::StrAppend(&out, FlagUsage(flag, defaults));
  return out;
}

std::vector<std::pair<std::string, std::string>> DescribeSidecarConfig(const SidecarConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const SidecarFlag& flag : SidecarFlags()) {
    if (flag.get != nullptr) out.emplace_back(flag.name, flag.get(config));
  }
  return out;
}

}  // namespace moq_stats::server
