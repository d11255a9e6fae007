// The moq-stats command table.

#include "client/cli/internal/cli_commands.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace moq_stats::cli::internal {
namespace {

TEST(CliCommandsTest, EveryCommandOnceAndFoundByName) {
  std::set<Command> seen;
  for (const CommandInfo& info : Commands()) {
    SCOPED_TRACE(info.name);
    EXPECT_TRUE(seen.insert(info.command).second);
    EXPECT_EQ(FindCommand(info.name), info.command);
    EXPECT_EQ(&InfoOf(info.command), &info);
    // A command whose argument is required takes one.
    if (info.missing_argument != nullptr) {
      EXPECT_GE(info.max_arguments, 1u);
    }
    // --help prints the description as it is.
    EXPECT_TRUE(absl::EndsWith(info.description, "\n"));
  }
  for (Command command : {Command::kLevels, Command::kGet, Command::kWatch, Command::kBump, Command::kHealth,
                          Command::kInfo, Command::kTop}) {
    EXPECT_EQ(seen.count(command), 1u);
  }
  EXPECT_EQ(FindCommand("frob"), std::nullopt);
  EXPECT_EQ(FindCommand("GET"), std::nullopt);
}

}  // namespace
}  // namespace moq_stats::cli::internal
