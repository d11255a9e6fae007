#ifndef MOQ_STATS_CLIENT_CLI_CLI_FLAGS_H_
#define MOQ_STATS_CLIENT_CLI_CLI_FLAGS_H_

// The command line of moq-stats, parsed into what to do; no I/O.
//
//   moq-stats [--target=unix:/path|host:port] [--json] [--timeout=5s] <command> [args]
//
// The global flags may stand anywhere on the line; a command's own flags come
// after the command. Flags take their value as `--flag=value` or
// `--flag value`; `--` ends the flags (for a level key that starts with '-').

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moq_stats {
namespace cli {

// Where the sidecar is when neither --target nor MOQ_STATS_TARGET says: the
// daemon's default socket, relative to the working directory.
inline constexpr char kDefaultTarget[] = "unix:moq-stats.sock";
// The environment variable that names the sidecar.
inline constexpr char kTargetEnv[] = "MOQ_STATS_TARGET";
// The largest --frames and --groups: each is one library call per unit.
inline constexpr uint64_t kMaxBumpRepeats = 100'000'000;

enum class Command { kLevels, kGet, kWatch, kBump, kHealth, kInfo, kTop };

// The flags every command takes.
struct GlobalOptions {
  std::string target = kDefaultTarget;
  bool json = false;
  // The deadline of each call; for watch, of connecting; for bump, of the
  // final flush and acknowledgement.
  absl::Duration timeout = absl::Seconds(5);
  // Credentials for a sidecar on TCP (--auth-token-file, --tls-ca,
  // --tls-cert, --tls-key); empty: none.
  std::string auth_token_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

// bump's --tier and --role (the library's Tier and Role, kept apart so that
// parsing needs no library).
enum class BumpTier { kExternal, kInternal };
enum class BumpRole { kPublisher, kSubscriber };

// What `bump` counts.
struct BumpOptions {
  std::string path;
  BumpTier tier = BumpTier::kExternal;
  // --tier NAME other than external or internal: a named tier (checked when
  // the command runs), counted by the node format only.
  std::string tier_label;
  BumpRole role = BumpRole::kPublisher;
  // --session ROOT: also hold a session guard of that auth root in the tier
  // while bumping.
  std::optional<std::string> session;
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t groups = 0;
  uint64_t fetches = 0;
  uint64_t datagrams = 0;
  // Also hold an announce guard on the broadcast while bumping.
  bool announce = false;
  absl::Duration hold = absl::ZeroDuration();
};

// How `top` orders its rows: the largest first.
enum class TopSort {
  kBitrate,  // bits per second sent
  kViewers,  // subscriptions open now
};

// The shortest --interval of `top`.
inline constexpr absl::Duration kMinTopInterval = absl::Milliseconds(100);

// What `top` shows and for how long.
struct TopOptions {
  std::string prefix;  // the levels at or under it; "" for all
  absl::Duration interval = absl::Seconds(1);
  TopSort sort = TopSort::kBitrate;
  uint64_t iterations = 0;  // refreshes before it ends by itself; 0: until told
};

// A parsed command line: either help to print, or a command to run.
struct Invocation {
  // --help (global or per command): print `help` to stdout and exit 0.
  bool show_help = false;
  std::string help;
  // --version (and no --help): print the version to stdout and exit 0.
  bool show_version = false;

  GlobalOptions global;
  Command command = Command::kInfo;
  // levels and watch: the prefix ("" for all); get: the level key.
  std::string argument;
  BumpOptions bump;  // bump only
  TopOptions top;    // top only
};

// Looks up an environment variable; nullptr when unset.
using GetEnvFn = std::function<const char*(const char*)>;

// Parses `args` (argv without argv[0]) over the environment: a flag with a
// variable (--target: MOQ_STATS_TARGET) takes its value from it when the
// variable is set and not empty, and the command line wins over it; a null
// `getenv` is an empty environment. INVALID_ARGUMENT with a message for the
// user on an unknown command or flag, a missing or extra argument, or a bad
// value (the caller prints it and exits 2).
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args, const GetEnvFn& getenv);

// The --help texts.
std::string GeneralUsage();
std::string CommandUsage(Command command);

// The name of `command` as typed.
const char* CommandName(Command command);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_CLI_FLAGS_H_
