#include "client/cli/cli_flags.h"

#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client/cli/internal/cli_commands.h"
#include "client/cli/internal/cli_flag_table.h"

namespace moq_stats {
namespace cli {
namespace {

using internal::CliFlag;
using internal::CliFlagKind;
using internal::CliFlags;
using internal::CommandInfo;

// Usage lines wrap at this many columns, their continuation lines indented
// this much.
constexpr size_t kUsageWidth = 79;
constexpr size_t kUsageIndent = 11;
// The general --help's columns: commands, and flags.
constexpr size_t kCommandColumn = 18;
constexpr size_t kFlagColumn = 20;

size_t FlagIndex(const CliFlag& flag) { return static_cast<size_t>(&flag - CliFlags().data()); }

// --help and its short spelling -h.
const CliFlag& HelpFlag() {
  for (const CliFlag& flag : CliFlags()) {
    if (flag.kind == CliFlagKind::kHelp) return flag;
  }
  return CliFlags().front();  // unreachable: the table has one
}

// As usage lines show the flag: --name or --name=VALUE.
std::string Spelling(const CliFlag& flag) {
  return flag.value_name == nullptr ? absl::StrCat("--", flag.name)
                                    : absl::StrCat("--", flag.name, "=", flag.value_name);
}

// A line of the general --help: `head` in a column `width` wide, then
// `text`, each of whose '\n' starts a line that lines up under it.
std::string HelpColumns(absl::string_view head, size_t width, absl::string_view text) {
  const std::string indent(2 + width, ' ');
  std::string out = absl::StrCat("  ", head, std::string(head.size() < width ? width - head.size() : 1, ' '));
  absl::StrAppend(&out, absl::StrJoin(absl::StrSplit(text, '\n'), absl::StrCat("\n", indent)), "\n");
  return out;
}

// What the general --help says of a global flag, with its default.
std::string FlagHelp(const CliFlag& flag, const Invocation& defaults) {
  std::string text = flag.help;
  if (flag.get != nullptr && flag.env != nullptr) {
    absl::StrAppend(&text, "; default $", flag.env, ", else ", flag.get(defaults));
  } else if (flag.get != nullptr) {
    absl::StrAppend(&text, "; default ", flag.get(defaults));
  }
  return HelpColumns(Spelling(flag), kFlagColumn, text);
}

// The command as usage lines show it: its name, its arguments, the flags it
// needs and, when `all_flags`, its other flags in brackets.
std::vector<std::string> CommandWords(const CommandInfo& info, bool all_flags) {
  std::vector<std::string> words = {info.name};
  if (*info.arguments != '\0') words.push_back(info.arguments);
  for (const CliFlag& flag : CliFlags()) {
    if (flag.command != info.command) continue;
    if (flag.required) {
      words.push_back(Spelling(flag));
    } else if (all_flags) {
      words.push_back(absl::StrCat("[", Spelling(flag), "]"));
    }
  }
  return words;
}

// `first` and then `words`, wrapped as a usage line.
std::string UsageLine(std::string first, const std::vector<std::string>& words) {
  std::string out;
  std::string line = std::move(first);
  for (const std::string& word : words) {
    if (line.size() + 1 + word.size() > kUsageWidth) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(kUsageIndent, ' ');
    } else {
      line += ' ';
    }
    line += word;
  }
  absl::StrAppend(&out, line, "\n");
  return out;
}

// Reads the flag args[*i] into `inv`, `command` being the command read so
// far; a flag that takes a value and has none after '=' takes the next
// argument (*i moves on to it). Marks the flag in `given`.
absl::Status ReadFlag(const std::vector<std::string>& args, size_t* i, std::optional<Command> command,
                      std::vector<bool>* given, Invocation* inv) {
  const std::string& arg = args[*i];
  const CliFlag* flag = nullptr;
  std::optional<std::string> value;
  if (arg == "-h") {
    flag = &HelpFlag();
  } else if (arg.size() < 3 || arg[1] != '-') {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
  } else {
    absl::string_view name = absl::string_view(arg).substr(2);
    if (size_t eq = name.find('='); eq != absl::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    flag = internal::FindCliFlag(name);
    if (flag == nullptr || (flag->command.has_value() && flag->command != command)) {
      return absl::InvalidArgumentError(command ? absl::StrCat("unknown flag --", name, " for ", CommandName(*command))
                                                : absl::StrCat("unknown flag --", name));
    }
  }
  if (!value.has_value()) {
    if (flag->kind != CliFlagKind::kValue) {
      value = "true";
    } else if (*i + 1 < args.size()) {
      value = args[++*i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", flag->name, " needs a value"));
    }
  }
  (*given)[FlagIndex(*flag)] = true;
  return flag->set(*value, inv);
}

// The command's arguments and the flags it needs: none missing, none extra.
absl::Status CheckArguments(const CommandInfo& info, const std::vector<std::string>& arguments,
                            const std::vector<bool>& given) {
  if (arguments.empty() && info.missing_argument != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(info.name, ": ", info.missing_argument));
  }
  for (const CliFlag& flag : CliFlags()) {
    if (flag.command == info.command && flag.required && !given[FlagIndex(flag)]) {
      return absl::InvalidArgumentError(absl::StrCat(info.name, ": --", flag.name, " is missing"));
    }
  }
  if (arguments.size() > info.max_arguments) {
    return absl::InvalidArgumentError(
        absl::StrCat(info.name, ": unexpected argument \"", arguments[info.max_arguments], "\""));
  }
  return absl::OkStatus();
}

}  // namespace

const char* CommandName(Command command) { return internal::InfoOf(command).name; }

std::string CommandUsage(Command command) {
  const CommandInfo& info = internal::InfoOf(command);
  return absl::StrCat(UsageLine("usage: moq-stats [global flags]", CommandWords(info, true)), "\n", info.description);
}

std::string GeneralUsage() {
  const Invocation defaults;
  std::vector<std::string> global_flags;
  for (const CliFlag& flag : CliFlags()) {
    if (!flag.command.has_value() && flag.kind != CliFlagKind::kHelp) {
      global_flags.push_back(absl::StrCat("[", Spelling(flag), "]"));
    }
  }
  std::string out = absl::StrCat(
      "moq-stats: look at and poke a moq-stats-sidecar by hand.\n"
      "\n"
      "usage: moq-stats ",
      absl::StrJoin(global_flags, " "),
      " <command> [args]\n"
      "\n"
      "commands:\n");
  for (const CommandInfo& info : internal::Commands()) {
    absl::StrAppend(&out, HelpColumns(absl::StrJoin(CommandWords(info, false), " "), kCommandColumn, info.summary));
  }
  absl::StrAppend(&out, "\nglobal flags (anywhere on the line; `--flag=value` or `--flag value`):\n");
  for (const CliFlag& flag : CliFlags()) {
    if (!flag.command.has_value()) absl::StrAppend(&out, FlagHelp(flag, defaults));
  }
  absl::StrAppend(&out, HelpColumns("--", kFlagColumn, "ends the flags (for a level key starting with '-')"),
                  "\n"
                  "exit status: 0 done; 1 the sidecar could not be reached, answered with an\n"
                  "error, is not serving or did not acknowledge a bump; 2 a usage error.\n");
  return out;
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args, const GetEnvFn& getenv) {
  Invocation inv;
  // Reported after the whole line is read, so that --help anywhere wins.
  absl::Status error;
  auto fail = [&error](absl::Status s) {
    if (error.ok()) error = std::move(s);
  };

  // The variables first: a flag on the line wins over its variable.
  for (const CliFlag& flag : CliFlags()) {
    const char* value = flag.env != nullptr && getenv ? getenv(flag.env) : nullptr;
    if (value != nullptr && *value != '\0') fail(flag.set(value, &inv));
  }

  std::optional<Command> command;
  std::vector<std::string> arguments;
  std::vector<bool> given(CliFlags().size(), false);
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() <= 1 || arg[0] != '-') {
      if (command) {
        arguments.push_back(arg);
        continue;
      }
      command = internal::FindCommand(arg);
      if (command) continue;
      fail(absl::InvalidArgumentError(absl::StrCat("unknown command \"", arg, "\"")));
      break;  // the rest of the line means nothing without it
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    fail(ReadFlag(args, &i, command, &given, &inv));
  }

  if (inv.show_help) {
    inv.help = command ? CommandUsage(*command) : GeneralUsage();
    return inv;
  }
  if (!error.ok()) return error;
  if (inv.show_version) return inv;
  if (!command) return absl::InvalidArgumentError("no command given");
  inv.command = *command;
  if (absl::Status s = CheckArguments(internal::InfoOf(*command), arguments, given); !s.ok()) return s;
  if (!arguments.empty()) inv.argument = arguments[0];
  return inv;
}

}  // namespace cli
}  // namespace moq_stats
