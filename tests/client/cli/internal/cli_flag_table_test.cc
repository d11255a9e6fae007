// The moq-stats flag table: what the parser and the usage lines rely on
// holding for each entry.

#include "client/cli/internal/cli_flag_table.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace moq_stats::cli::internal {
namespace {

TEST(CliFlagTableTest, NamesAreUniqueAndFound) {
  std::set<std::string> names;
  for (const CliFlag& flag : CliFlags()) {
    EXPECT_TRUE(names.insert(flag.name).second) << flag.name;
    EXPECT_EQ(FindCliFlag(flag.name), &flag);
  }
  EXPECT_EQ(FindCliFlag("frob"), nullptr);
  EXPECT_EQ(FindCliFlag(""), nullptr);
}

TEST(CliFlagTableTest, EachEntryHasWhatItsKindAndPlaceNeed) {
  int help_flags = 0;
  bool command_flags_started = false;
  for (const CliFlag& flag : CliFlags()) {
    SCOPED_TRACE(flag.name);
    EXPECT_NE(flag.set, nullptr);
    EXPECT_EQ(flag.value_name != nullptr, flag.kind == CliFlagKind::kValue);
    if (flag.kind == CliFlagKind::kHelp) ++help_flags;
    // The general --help describes the global flags; a command's --help its own.
    EXPECT_EQ(flag.help != nullptr, !flag.command.has_value());
    if (!flag.command.has_value()) {
      EXPECT_FALSE(flag.required);
      EXPECT_FALSE(command_flags_started) << "global flags come first";
    } else {
      command_flags_started = true;
      EXPECT_EQ(flag.env, nullptr);
    }
  }
  EXPECT_EQ(help_flags, 1);
}

TEST(CliFlagTableTest, SettersNameTheirFlag) {
  Invocation inv;
  EXPECT_TRUE(FindCliFlag("groups")->set("7", &inv).ok());
  EXPECT_EQ(inv.bump.groups, 7u);
  EXPECT_EQ(FindCliFlag("groups")->set("x", &inv).message(), "--groups: \"x\" is not a number");
  EXPECT_TRUE(FindCliFlag("json")->set("true", &inv).ok());
  EXPECT_TRUE(inv.global.json);
  EXPECT_EQ(FindCliFlag("timeout")->get(Invocation()), "5s");
  EXPECT_EQ(FindCliFlag("target")->get(Invocation()), kDefaultTarget);
}

}  // namespace
}  // namespace moq_stats::cli::internal
