// RunCommand: each command to the function that runs it (the read commands
// in level_commands.cc, watch_command.cc and info_commands.cc; bump in
// bump_command.cc; top in top_command.cc).

#include "client/cli/commands.h"

#include "client/cli/internal/command_runners.h"
#include "client/cli/top_command.h"

namespace moq_stats {
namespace cli {

CommandOutcome RunCommand(const Invocation& invocation, std::ostream& out) {
  switch (invocation.command) {
    case Command::kLevels:
      return internal::RunLevels(invocation, out);
    case Command::kGet:
      return internal::RunGet(invocation, out);
    case Command::kWatch:
      return internal::RunWatch(invocation, out);
    case Command::kBump:
      return internal::RunBump(invocation, out);
    case Command::kHealth:
      return internal::RunHealth(invocation, out);
    case Command::kInfo:
      return internal::RunInfo(invocation, out);
    case Command::kTop:
      return RunTop(invocation, out);
  }
  return internal::Fail(2, "unknown command");
}

}  // namespace cli
}  // namespace moq_stats
