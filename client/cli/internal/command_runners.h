#ifndef MOQ_STATS_CLIENT_CLI_INTERNAL_COMMAND_RUNNERS_H_
#define MOQ_STATS_CLIENT_CLI_INTERNAL_COMMAND_RUNNERS_H_

// The commands RunCommand (commands.h) dispatches to, one function each, and
// the outcomes and call settings they share. Each runs one parsed
// invocation of its command and writes its output to `out`.

#include <ostream>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/cli_flags.h"
#include "client/cli/commands.h"
#include "client/cli/sidecar_channel.h"

namespace moq_stats {
namespace cli {
namespace internal {

// A command that did what it was asked.
inline CommandOutcome Done() { return CommandOutcome{}; }

// A command that ends with `exit_code` and `message` (see CommandOutcome).
inline CommandOutcome Fail(int exit_code, std::string message) { return CommandOutcome{exit_code, std::move(message)}; }

// A failed call `what` to the sidecar at `target`: exit code 1.
inline CommandOutcome CallFailed(absl::string_view what, const std::string& target, const grpc::Status& status) {
  return Fail(1, DescribeCallError(what, target, status));
}

// Gives a unary call the command line's --timeout from now.
inline void SetDeadline(const GlobalOptions& global, grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + global.timeout));
}

// `levels [PREFIX]`: every level under the prefix, page by page
// (level_commands.cc).
CommandOutcome RunLevels(const Invocation& inv, std::ostream& out);

// `get KEY`: one level (level_commands.cc).
CommandOutcome RunGet(const Invocation& inv, std::ostream& out);

// `watch [PREFIX]`: the announces and frames under the prefix until the
// stream ends or a signal stops it (watch_command.cc). Blocks SIGINT and
// SIGTERM, so it must run before any other thread has started.
CommandOutcome RunWatch(const Invocation& inv, std::ostream& out);

// `bump PATH`: counts traffic through the library and reports what it sent
// and whether the sidecar acknowledged it (bump_command.cc). Blocks SIGINT
// and SIGTERM, so it must run before any other thread has started.
CommandOutcome RunBump(const Invocation& inv, std::ostream& out);

// `health`: the gRPC health of the server and of the stats service
// (info_commands.cc).
CommandOutcome RunHealth(const Invocation& inv, std::ostream& out);

// `info`: the sidecar's version, uptime, settings, counters and bridge
// (info_commands.cc).
CommandOutcome RunInfo(const Invocation& inv, std::ostream& out);

}  // namespace internal
}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_INTERNAL_COMMAND_RUNNERS_H_
