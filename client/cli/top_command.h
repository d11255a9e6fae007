#ifndef MOQ_STATS_CLIENT_CLI_TOP_COMMAND_H_
#define MOQ_STATS_CLIENT_CLI_TOP_COMMAND_H_

// `moq-stats top`: reads the sidecar every interval (TopSource), computes the
// rates (TopModel) and draws them (top_view.h), on the terminal it owns while
// it runs (RawTerminal), or as plain lines when stdin or stdout is not one.

#include <ostream>

#include "client/cli/cli_flags.h"
#include "client/cli/commands.h"

namespace moq_stats {
namespace cli {

// Runs `top` (invocation.command == Command::kTop). Plain lines go to
// `out`; the terminal screen to stdout (fd 1), keys from stdin (fd 0).
// Blocks SIGINT, SIGTERM, SIGHUP and SIGWINCH to handle them itself, so it
// must be called before any other thread, gRPC's included, has started.
CommandOutcome RunTop(const Invocation& invocation, std::ostream& out);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TOP_COMMAND_H_
