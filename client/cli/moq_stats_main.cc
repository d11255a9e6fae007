// moq-stats: look at and poke a moq-stats-sidecar by hand. `moq-stats --help`
// says how; cli_flags.h parses the line and commands.h runs it.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli/cli_flags.h"
#include "client/cli/commands.h"

#ifndef MOQSTATS_VERSION
#define MOQSTATS_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<moq_stats::cli::Invocation> invocation =
      moq_stats::cli::ParseCommandLine(args, [](const char* name) { return std::getenv(name); });
  if (!invocation.ok()) {
    std::cerr << "moq-stats: " << invocation.status().message() << "\n"
              << "(`moq-stats --help` lists the commands and flags)\n";
    return 2;
  }
  if (invocation->show_help) {
    std::cout << invocation->help;
    return 0;
  }
  if (invocation->show_version) {
    std::cout << "moq-stats " << MOQSTATS_VERSION << "\n";
    return 0;
  }
  moq_stats::cli::CommandOutcome outcome = moq_stats::cli::RunCommand(*invocation, std::cout);
  std::cout.flush();
  if (!outcome.message.empty()) std::cerr << "moq-stats: " << outcome.message << "\n";
  return outcome.exit_code;
}
