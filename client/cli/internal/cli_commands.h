#ifndef MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_COMMANDS_H_
#define MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_COMMANDS_H_

// The commands of moq-stats as one table: each one's name, the arguments it
// takes and what its --help and the general --help say of it. The flags a
// command takes are in cli_flag_table.h.

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/cli/cli_flags.h"

namespace moq_stats::cli::internal {

struct CommandInfo {
  Command command;
  const char* name;       // as typed
  const char* arguments;  // as usage lines show them; "" for none
  size_t max_arguments;
  // The error when the argument is left out; nullptr when it may be.
  const char* missing_argument;
  const char* summary;  // its line in the general --help
  // Its --help after the usage line (which comes from the tables).
  const char* description;
};

// Every command, in the order the general --help lists them.
absl::Span<const CommandInfo> Commands();

const CommandInfo& InfoOf(Command command);

// The command typed as `name`, or nullopt.
std::optional<Command> FindCommand(absl::string_view name);

}  // namespace moq_stats::cli::internal

#endif  // MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_COMMANDS_H_
