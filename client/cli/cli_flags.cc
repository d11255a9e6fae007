#include "client/cli/cli_flags.h"

#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace moq_stats {
namespace cli {
namespace {

struct CommandInfo {
  Command command;
  const char* name;
  const char* usage;
};

constexpr CommandInfo kCommands[] = {
    {Command::kLevels, "levels",
     "usage: moq-stats [global flags] levels [PREFIX]\n"
     "\n"
     "Lists the levels whose key is PREFIX or under it (whole segments; all\n"
     "levels when left out), in key order, following every page.\n"
     "\n"
     "Text: a table with one row per level and (tier, role): KEY (\"\" is the\n"
     "root), ADVERTISED PATH, PUBLISHING, TIER, ROLE and the seven counters.\n"
     "--json: one JSON object per level per line (as `get --json` prints it);\n"
     "no levels, no lines.\n"},
    {Command::kGet, "get",
     "usage: moq-stats [global flags] get LEVEL\n"
     "\n"
     "Shows one level: its key, advertised path, whether its publisher runs,\n"
     "and the seven counters of each (tier, role). LEVEL is normalised as a\n"
     "path; \"\" or / is the root. A level that does not exist exits 1 with\n"
     "NOT_FOUND.\n"
     "\n"
     "--json: one line,\n"
     "  {\"key\":..,\"advertised_path\":..,\"publishing\":..,\"external_publisher\":{\n"
     "   \"broadcasts\":..,\"broadcasts_closed\":..,\"subscriptions\":..,\n"
     "   \"subscriptions_closed\":..,\"bytes\":..,\"frames\":..,\"groups\":..},\n"
     "   \"external_subscriber\":{..},\"internal_publisher\":{..},\"internal_subscriber\":{..}}\n"
     "with the counters as JSON numbers.\n"},
    {Command::kWatch, "watch",
     "usage: moq-stats [global flags] watch [PREFIX]\n"
     "\n"
     "Follows the stats broadcasts whose path is PREFIX or under it (whole\n"
     "segments, e.g. .stats/prefix/demo; all of them when left out) until\n"
     "Ctrl-C (exit 0) or the sidecar ends the stream. Each frame's JSON payload\n"
     "is printed on a line of its own, exactly as published; a broadcast that\n"
     "starts or ends prints `# announce PATH` or `# end PATH`.\n"
     "\n"
     "--json: every line is a JSON object:\n"
     "  {\"announce\":PATH}  {\"end\":PATH}\n"
     "  {\"path\":PATH,\"track\":TRACK,\"sequence\":N,\"frame\":PAYLOAD}\n"
     "with the payload inlined (as a JSON string under \"frame_text\" instead,\n"
     "should it not be valid JSON). --timeout bounds connecting only.\n"},
    {Command::kBump, "bump",
     "usage: moq-stats [global flags] bump --path=PATH [--tier=external|internal]\n"
     "           [--role=publisher|subscriber] [--frames=N] [--bytes=N] [--groups=N]\n"
     "           [--hold=DURATION]\n"
     "\n"
     "Counts traffic on broadcast PATH as a relay would, through the relay-side\n"
     "library: opens a broadcast guard and a track guard in TIER (default\n"
     "external) and ROLE (default publisher), adds N frames, N bytes and N\n"
     "groups (default 0 each; --frames and --groups at most 100000000), holds\n"
     "the guards for DURATION (default 0; Ctrl-C ends the hold early), closes\n"
     "them and shuts the library down, waiting up to --timeout for the sidecar\n"
     "to acknowledge everything. Prints what was sent and whether the sidecar\n"
     "acknowledged it; exits 1 when it did not.\n"
     "\n"
     "--json: one line, {\"target\":..,\"path\":..,\"tier\":..,\"role\":..,\n"
     "\"sent\":{the seven counters},\"held_seconds\":..,\"acknowledged\":..,\n"
     "\"batches_sent\":..,\"batches_acked\":..}.\n"},
    {Command::kHealth, "health",
     "usage: moq-stats [global flags] health\n"
     "\n"
     "Asks grpc.health.v1.Health/Check about the server as a whole (\"\") and\n"
     "about moq.stats.v1.StatsService, and prints each answer (SERVING,\n"
     "NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN). Exits 1 unless both are SERVING.\n"
     "\n"
     "--json: one line, {\"services\":{\"\":STATUS,\"moq.stats.v1.StatsService\":STATUS},\n"
     "\"serving\":true|false}.\n"},
    {Command::kInfo, "info",
     "usage: moq-stats [global flags] info\n"
     "\n"
     "Shows the sidecar's version, uptime, every setting in effect and its own\n"
     "counters (as on /metrics), names in sorted order.\n"
     "\n"
     "--json: one line, {\"version\":..,\"uptime_seconds\":..,\"config\":{NAME:VALUE,..},\n"
     "\"counters\":{NAME:NUMBER,..}}.\n"},
};

const CommandInfo& InfoOf(Command command) {
  for (const CommandInfo& info : kCommands) {
    if (info.command == command) return info;
  }
  return kCommands[0];  // unreachable: every Command is listed
}

std::optional<Command> FindCommand(absl::string_view name) {
  for (const CommandInfo& info : kCommands) {
    if (name == info.name) return info.command;
  }
  return std::nullopt;
}

// A decimal number without sign, spaces or overflow.
absl::Status ParseCount(absl::string_view flag, absl::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": a number is needed"));
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", text, "\" is not a number"));
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", text, "\" is out of range"));
    }
    value = value * 10 + digit;
  }
  if (value > max) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", value, " is above the limit of ", max));
  }
  *out = value;
  return absl::OkStatus();
}

// A Go-style duration ("5s", "500ms", "1m30s") or a plain number of seconds,
// as the daemon takes them; finite and not negative.
absl::Status ParseDurationFlag(absl::string_view flag, absl::string_view text, absl::Duration* out) {
  absl::Duration d;
  uint64_t seconds = 0;
  const bool plain = !text.empty() && ParseCount(flag, text, std::numeric_limits<int64_t>::max() / 1000, &seconds).ok();
  if (plain) {
    d = absl::Seconds(static_cast<int64_t>(seconds));
  } else if (!absl::ParseDuration(std::string(text), &d) || d == absl::InfiniteDuration() ||
             d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", text,
                     "\" is not a duration (like \"5s\", \"500ms\", \"1m30s\"; a plain number is seconds)"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", text, "\" is negative"));
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseBoolFlag(absl::string_view flag, absl::string_view text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", text, "\" is not true or false"));
  }
  return absl::OkStatus();
}

// Applies one bump flag; NOT_FOUND when `name` is not one.
absl::Status ApplyBumpFlag(absl::string_view name, absl::string_view value, BumpOptions* bump) {
  if (name == "path") {
    bump->path = std::string(value);
  } else if (name == "tier") {
    if (value == "external") {
      bump->tier = BumpTier::kExternal;
    } else if (value == "internal") {
      bump->tier = BumpTier::kInternal;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--tier: \"", value, "\" is not external or internal"));
    }
  } else if (name == "role") {
    if (value == "publisher") {
      bump->role = BumpRole::kPublisher;
    } else if (value == "subscriber") {
      bump->role = BumpRole::kSubscriber;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--role: \"", value, "\" is not publisher or subscriber"));
    }
  } else if (name == "frames") {
    return ParseCount(name, value, kMaxBumpRepeats, &bump->frames);
  } else if (name == "groups") {
    return ParseCount(name, value, kMaxBumpRepeats, &bump->groups);
  } else if (name == "bytes") {
    return ParseCount(name, value, std::numeric_limits<uint64_t>::max(), &bump->bytes);
  } else if (name == "hold") {
    return ParseDurationFlag(name, value, &bump->hold);
  } else {
    return absl::NotFoundError(name);
  }
  return absl::OkStatus();
}

bool IsBumpFlag(absl::string_view name) {
  return name == "path" || name == "tier" || name == "role" || name == "frames" || name == "bytes" ||
         name == "groups" || name == "hold";
}

}  // namespace

const char* CommandName(Command command) { return InfoOf(command).name; }

std::string CommandUsage(Command command) { return InfoOf(command).usage; }

std::string GeneralUsage() {
  return absl::StrCat(
      "moq-stats: look at and poke a moq-stats-sidecar by hand.\n"
      "\n"
      "usage: moq-stats [--target=TARGET] [--json] [--timeout=DURATION] <command> [args]\n"
      "\n"
      "commands:\n"
      "  levels [PREFIX]   the levels at or under PREFIX (all by default)\n"
      "  get LEVEL         one level (\"\" or / is the root)\n"
      "  watch [PREFIX]    follow the stats broadcasts under PREFIX until Ctrl-C\n"
      "  bump --path=PATH  count traffic on PATH through the relay-side library\n"
      "  health            grpc.health.v1 checks of the server and the stats service\n"
      "  info              version, uptime, settings and counters of the sidecar\n"
      "\n"
      "global flags (anywhere on the line; `--flag=value` or `--flag value`):\n"
      "  --target=TARGET     the sidecar, unix:PATH or HOST:PORT; default $",
      kTargetEnv, ", else ", kDefaultTarget,
      "\n"
      "  --json              machine-readable output (see each command's --help)\n"
      "  --timeout=DURATION  deadline of each call: \"5s\", \"500ms\", a plain number is\n"
      "                      seconds; default 5s\n"
      "  --help              this text; `moq-stats COMMAND --help` for a command's\n"
      "  --                  ends the flags (for a level key starting with '-')\n"
      "\n"
      "exit status: 0 done; 1 the sidecar could not be reached, answered with an\n"
      "error, is not serving or did not acknowledge a bump; 2 a usage error.\n");
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args, const char* env_target) {
  Invocation inv;
  if (env_target != nullptr && *env_target != '\0') inv.global.target = env_target;
  std::optional<Command> command;
  std::vector<std::string> positionals;
  bool help = false;
  bool flags_done = false;
  bool bump_path_given = false;
  // Reported after the whole line is read, so that --help anywhere wins.
  absl::Status error;
  auto fail = [&error](absl::Status s) {
    if (error.ok()) error = std::move(s);
  };

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_flag = !flags_done && arg.size() > 1 && arg[0] == '-';
    if (!is_flag) {
      if (!flags_done && arg == "--") {
        flags_done = true;
      } else if (!command) {
        command = FindCommand(arg);
        if (!command) fail(absl::InvalidArgumentError(absl::StrCat("unknown command \"", arg, "\"")));
        if (!command) break;  // the rest of the line means nothing without it
      } else {
        positionals.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    if (arg.size() < 3 || arg[1] != '-') {
      fail(absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg)));
      continue;
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    absl::string_view name = body;
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = std::string(body.substr(eq + 1));
    }
    const bool boolean = name == "json" || name == "help";
    const bool known =
        name == "target" || name == "timeout" || boolean || (command == Command::kBump && IsBumpFlag(name));
    if (!known) {
      fail(absl::InvalidArgumentError(command ? absl::StrCat("unknown flag --", name, " for ", CommandName(*command))
                                              : absl::StrCat("unknown flag --", name)));
      continue;
    }
    if (!value && !boolean) {
      if (i + 1 >= args.size()) {
        fail(absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value")));
        continue;
      }
      value = args[++i];
    }
    if (name == "json" || name == "help") {
      bool on = true;
      if (value) {
        if (absl::Status s = ParseBoolFlag(name, *value, &on); !s.ok()) {
          fail(std::move(s));
          continue;
        }
      }
      (name == "json" ? inv.global.json : help) = on;
    } else if (name == "target") {
      if (value->empty()) fail(absl::InvalidArgumentError("--target: empty"));
      inv.global.target = *value;
    } else if (name == "timeout") {
      if (absl::Status s = ParseDurationFlag(name, *value, &inv.global.timeout); !s.ok()) {
        fail(std::move(s));
      } else if (inv.global.timeout <= absl::ZeroDuration()) {
        fail(absl::InvalidArgumentError("--timeout: must be above zero"));
      }
    } else {
      if (name == "path") bump_path_given = true;
      if (absl::Status s = ApplyBumpFlag(name, *value, &inv.bump); !s.ok()) fail(std::move(s));
    }
  }

  if (help) {
    inv.show_help = true;
    inv.help = command ? CommandUsage(*command) : GeneralUsage();
    return inv;
  }
  if (!error.ok()) return error;
  if (!command) return absl::InvalidArgumentError("no command given");
  inv.command = *command;

  size_t max_positionals = 0;
  switch (inv.command) {
    case Command::kLevels:
    case Command::kWatch:
      max_positionals = 1;
      break;
    case Command::kGet:
      if (positionals.empty()) return absl::InvalidArgumentError("get: the level is missing (\"\" for the root)");
      max_positionals = 1;
      break;
    case Command::kBump:
      if (!bump_path_given) return absl::InvalidArgumentError("bump: --path is missing");
      break;
    case Command::kHealth:
    case Command::kInfo:
      break;
  }
  if (positionals.size() > max_positionals) {
    return absl::InvalidArgumentError(
        absl::StrCat(CommandName(inv.command), ": unexpected argument \"", positionals[max_positionals], "\""));
  }
  if (!positionals.empty()) inv.argument = positionals[0];
  return inv;
}

}  // namespace cli
}  // namespace moq_stats
