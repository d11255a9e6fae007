#ifndef MOQ_STATS_CLIENT_CLI_COMMANDS_H_
#define MOQ_STATS_CLIENT_CLI_COMMANDS_H_

// The commands of moq-stats, run against a sidecar: every value printed comes
// from the sidecar's answers (or, for bump, from what the command itself
// counted and the library reported).

#include <ostream>
#include <string>

#include "client/cli/cli_flags.h"

namespace moq_stats {
namespace cli {

// How a command ended.
struct CommandOutcome {
  // 0 done; 1 unreachable, an error from the sidecar, not serving, not
  // acknowledged; 2 a usage error found only when running (a bump path the
  // library counts nowhere).
  int exit_code = 0;
  // For stderr, without the "moq-stats: " prefix; empty when there is none.
  std::string message;
};

// Runs `invocation` (not a help request), writing its output to `out`.
//
// watch and bump block SIGINT and SIGTERM to end cleanly on them (see
// StopSignals), so they must be called before any other thread, gRPC's
// included, has started.
CommandOutcome RunCommand(const Invocation& invocation, std::ostream& out);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_COMMANDS_H_
