#ifndef MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_FLAG_TABLE_H_
#define MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_FLAG_TABLE_H_

// The flags of moq-stats as one table: each flag's name, where on the line
// it is known, its value, its environment variable, its help and how it sets
// its setting (the defaults are those of Invocation). ParseCommandLine, the
// general --help and the commands' usage lines all read this table.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/cli/cli_flags.h"

namespace moq_stats::cli::internal {

enum class CliFlagKind {
  kValue,  // takes a value: --flag=value or --flag value
  kBool,   // needs no value; takes =true/=false (or 1/0)
  kHelp,   // as kBool, also spelt -h, and left out of the usage lines
};

struct CliFlag {
  const char* name;  // without the dashes
  const char* env;   // read when the flag is not given; nullptr when none
  CliFlagKind kind;
  // nullopt: a global flag, known anywhere on the line; else known after
  // this command only.
  std::optional<Command> command;
  const char* value_name;  // what usage lines show as its value (kValue only)
  bool required;           // its command needs it
  // What the general --help says of a global flag; '\n' starts a
  // continuation line. nullptr for a command's flag: its command's --help
  // describes it.
  const char* help;
  // Sets the setting from `value` (a boolean flag given without one gets
  // "true"); the error names the flag.
  absl::Status (*set)(absl::string_view value, Invocation* inv);
  // The setting as text, as the general --help shows its default; nullptr
  // when none is shown.
  std::string (*get)(const Invocation& inv);
};

// Every flag: the global ones first, in the order the general --help lists
// them, then each command's, in the order its usage line lists them.
absl::Span<const CliFlag> CliFlags();

// The flag called `name` (without the dashes), or nullptr.
const CliFlag* FindCliFlag(absl::string_view name);

}  // namespace moq_stats::cli::internal

#endif  // MOQ_STATS_CLIENT_CLI_INTERNAL_CLI_FLAG_TABLE_H_
