#include "client/cli/internal/cli_flag_table.h"

#include <cstdint>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace moq_stats::cli::internal {
namespace {

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

const CliFlag kFlags[] = {
    // Global flags.
    {"target", kTargetEnv, CliFlagKind::kValue, std::nullopt, "TARGET", false, "the sidecar, unix:PATH or HOST:PORT",
     [](absl::string_view v, Invocation* inv) {
       if (v.empty()) return absl::InvalidArgumentError("--target: empty");
       inv->global.target = std::string(v);
       return absl::OkStatus();
     },
     [](const Invocation& inv) { return inv.global.target; }},
    {"json", nullptr, CliFlagKind::kBool, std::nullopt, nullptr, false,
     "machine-readable output (see each command's --help)",
     [](absl::string_view v, Invocation* inv) { return ParseBoolFlag("json", v, &inv->global.json); }, nullptr},
    {"timeout", nullptr, CliFlagKind::kValue, std::nullopt, "DURATION", false,
     "deadline of each call: \"5s\", \"500ms\", a plain number is\nseconds",
     [](absl::string_view v, Invocation* inv) {
       absl::Duration timeout;
       if (absl::Status s = ParseDurationFlag("timeout", v, &timeout); !s.ok()) return s;
       if (timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("--timeout: must be above zero");
       inv->global.timeout = timeout;
       return absl::OkStatus();
     },
     [](const Invocation& inv) { return absl::FormatDuration(inv.global.timeout); }},
    {"auth-token-file", "MOQ_STATS_AUTH_TOKEN_FILE", CliFlagKind::kValue, std::nullopt, "PATH", false,
     "bearer token for a sidecar on TCP (its first token is\nsent as `authorization: Bearer`)",
     [](absl::string_view v, Invocation* inv) {
       inv->global.auth_token_file = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"tls-ca", "MOQ_STATS_TLS_CA", CliFlagKind::kValue, std::nullopt, "PATH", false,
     "CA bundle (PEM) the sidecar's certificate is checked\nagainst; turns TLS on",
     [](absl::string_view v, Invocation* inv) {
       inv->global.tls_ca = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"tls-cert", "MOQ_STATS_TLS_CERT", CliFlagKind::kValue, std::nullopt, "PATH", false,
     "client certificate (PEM) for mutual TLS; needs --tls-key",
     [](absl::string_view v, Invocation* inv) {
       inv->global.tls_cert = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"tls-key", "MOQ_STATS_TLS_KEY", CliFlagKind::kValue, std::nullopt, "PATH", false,
     "private key (PEM) of --tls-cert",
     [](absl::string_view v, Invocation* inv) {
       inv->global.tls_key = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"help", nullptr, CliFlagKind::kHelp, std::nullopt, nullptr, false,
     "this text; `moq-stats COMMAND --help` for a command's",
     [](absl::string_view v, Invocation* inv) { return ParseBoolFlag("help", v, &inv->show_help); }, nullptr},
    {"version", nullptr, CliFlagKind::kBool, std::nullopt, nullptr, false, "print the version of moq-stats and exit",
     [](absl::string_view v, Invocation* inv) { return ParseBoolFlag("version", v, &inv->show_version); }, nullptr},

    // bump.
    {"path", nullptr, CliFlagKind::kValue, Command::kBump, "PATH", true, nullptr,
     [](absl::string_view v, Invocation* inv) {
       inv->bump.path = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"tier", nullptr, CliFlagKind::kValue, Command::kBump, "external|internal|NAME", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       inv->bump.tier_label.clear();
       if (v == "external") {
         inv->bump.tier = BumpTier::kExternal;
       } else if (v == "internal") {
         inv->bump.tier = BumpTier::kInternal;
       } else if (v.empty() || v.size() > 64 || v == "." || v == ".." || absl::StrContains(v, '/')) {
         // The rest of a label's rules (UTF-8) are checked when bump runs.
         return absl::InvalidArgumentError(absl::StrCat(
             "--tier: \"", v, "\" is not external, internal or a tier name (one path segment of at most 64 bytes)"));
       } else {
         inv->bump.tier = BumpTier::kExternal;
         inv->bump.tier_label = std::string(v);
       }
       return absl::OkStatus();
     },
     nullptr},
    {"session", nullptr, CliFlagKind::kValue, Command::kBump, "ROOT", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       inv->bump.session = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"role", nullptr, CliFlagKind::kValue, Command::kBump, "publisher|subscriber", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       if (v == "publisher") {
         inv->bump.role = BumpRole::kPublisher;
       } else if (v == "subscriber") {
         inv->bump.role = BumpRole::kSubscriber;
       } else {
         return absl::InvalidArgumentError(absl::StrCat("--role: \"", v, "\" is not publisher or subscriber"));
       }
       return absl::OkStatus();
     },
     nullptr},
    {"frames", nullptr, CliFlagKind::kValue, Command::kBump, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) { return ParseCount("frames", v, kMaxBumpRepeats, &inv->bump.frames); },
     nullptr},
    {"bytes", nullptr, CliFlagKind::kValue, Command::kBump, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       return ParseCount("bytes", v, std::numeric_limits<uint64_t>::max(), &inv->bump.bytes);
     },
     nullptr},
    {"groups", nullptr, CliFlagKind::kValue, Command::kBump, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) { return ParseCount("groups", v, kMaxBumpRepeats, &inv->bump.groups); },
     nullptr},
    {"fetches", nullptr, CliFlagKind::kValue, Command::kBump, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) { return ParseCount("fetches", v, kMaxBumpRepeats, &inv->bump.fetches); },
     nullptr},
    {"datagrams", nullptr, CliFlagKind::kValue, Command::kBump, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       return ParseCount("datagrams", v, kMaxBumpRepeats, &inv->bump.datagrams);
     },
     nullptr},
    {"announce", nullptr, CliFlagKind::kBool, Command::kBump, nullptr, false, nullptr,
     [](absl::string_view v, Invocation* inv) { return ParseBoolFlag("announce", v, &inv->bump.announce); }, nullptr},
    {"hold", nullptr, CliFlagKind::kValue, Command::kBump, "DURATION", false, nullptr,
     [](absl::string_view v, Invocation* inv) { return ParseDurationFlag("hold", v, &inv->bump.hold); }, nullptr},

    // top.
    {"prefix", nullptr, CliFlagKind::kValue, Command::kTop, "PREFIX", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       inv->top.prefix = std::string(v);
       return absl::OkStatus();
     },
     nullptr},
    {"interval", nullptr, CliFlagKind::kValue, Command::kTop, "DURATION", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       absl::Duration interval;
       if (absl::Status s = ParseDurationFlag("interval", v, &interval); !s.ok()) return s;
       if (interval < kMinTopInterval) {
         return absl::InvalidArgumentError(
             absl::StrCat("--interval: must be at least ", absl::FormatDuration(kMinTopInterval)));
       }
       inv->top.interval = interval;
       return absl::OkStatus();
     },
     nullptr},
    {"sort", nullptr, CliFlagKind::kValue, Command::kTop, "bitrate|viewers", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       if (v == "bitrate") {
         inv->top.sort = TopSort::kBitrate;
       } else if (v == "viewers") {
         inv->top.sort = TopSort::kViewers;
       } else {
         return absl::InvalidArgumentError(absl::StrCat("--sort: \"", v, "\" is not bitrate or viewers"));
       }
       return absl::OkStatus();
     },
     nullptr},
    {"iterations", nullptr, CliFlagKind::kValue, Command::kTop, "N", false, nullptr,
     [](absl::string_view v, Invocation* inv) {
       return ParseCount("iterations", v, std::numeric_limits<uint64_t>::max(), &inv->top.iterations);
     },
     nullptr},
};

}  // namespace

absl::Span<const CliFlag> CliFlags() { return kFlags; }

const CliFlag* FindCliFlag(absl::string_view name) {
  for (const CliFlag& flag : kFlags) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

}  // namespace moq_stats::cli::internal
