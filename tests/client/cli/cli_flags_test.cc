// The command line of moq-stats, parsed without running the binary
// (cli_usage_test runs it): where flags are known, values, the environment,
// help over errors, and the usage lines the tables make.

#include "client/cli/cli_flags.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using Env = std::map<std::string, std::string>;

absl::StatusOr<Invocation> Parse(const std::vector<std::string>& args, const Env& env = {}) {
  return ParseCommandLine(args, [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string ParseError(const std::vector<std::string>& args) {
  absl::StatusOr<Invocation> inv = Parse(args);
  EXPECT_FALSE(inv.ok());
  if (inv.ok()) return "";
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument) << inv.status();
  return std::string(inv.status().message());
}

TEST(CliFlagsTest, GlobalFlagsAnywhereInBothForms) {
  auto inv = Parse({"--json", "get", "--timeout", "250ms", "a/b", "--target=unix:/x.sock"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kGet);
  EXPECT_EQ(inv->argument, "a/b");
  EXPECT_TRUE(inv->global.json);
  EXPECT_EQ(inv->global.timeout, absl::Milliseconds(250));
  EXPECT_EQ(inv->global.target, "unix:/x.sock");

  auto defaults = ParseCommandLine({"info"}, GetEnvFn());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->global.target, kDefaultTarget);
  EXPECT_FALSE(defaults->global.json);
  EXPECT_EQ(defaults->global.timeout, absl::Seconds(5));
}

TEST(CliFlagsTest, TargetFromTheEnvironmentUnlessEmptyOrGiven) {
  EXPECT_EQ(Parse({"info"}, {{kTargetEnv, "unix:/env.sock"}})->global.target, "unix:/env.sock");
  EXPECT_EQ(Parse({"info"}, {{kTargetEnv, ""}})->global.target, kDefaultTarget);
  EXPECT_EQ(Parse({"--target", "h:1", "info"}, {{kTargetEnv, "unix:/env.sock"}})->global.target, "h:1");
}

TEST(CliFlagsTest, BumpFlagsAfterBumpOnly) {
  auto inv = Parse({"bump", "--path", "demo/x", "--tier=internal", "--role=subscriber", "--frames=3", "--bytes",
                    "18446744073709551615", "--groups=2", "--hold=1m"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->bump.path, "demo/x");
  EXPECT_EQ(inv->bump.tier, BumpTier::kInternal);
  EXPECT_EQ(inv->bump.role, BumpRole::kSubscriber);
  EXPECT_EQ(inv->bump.frames, 3u);
  EXPECT_EQ(inv->bump.bytes, 18446744073709551615u);
  EXPECT_EQ(inv->bump.groups, 2u);
  EXPECT_EQ(inv->bump.hold, absl::Minutes(1));

  EXPECT_EQ(ParseError({"--path=x", "bump"}), "unknown flag --path");
  EXPECT_EQ(ParseError({"info", "--path=x"}), "unknown flag --path for info");
  EXPECT_EQ(ParseError({"bump"}), "bump: --path is missing");
  EXPECT_TRUE(Parse({"bump", "--path="}).ok());
}

TEST(CliFlagsTest, ValueErrorsNameTheFlag) {
  EXPECT_EQ(ParseError({"bump", "--path=x", "--frames="}), "--frames: a number is needed");
  EXPECT_EQ(ParseError({"bump", "--path=x", "--frames=100000001"}),
            "--frames: 100000001 is above the limit of 100000000");
  EXPECT_EQ(ParseError({"bump", "--path=x", "--bytes=99999999999999999999"}),
            "--bytes: \"99999999999999999999\" is out of range");
  EXPECT_EQ(ParseError({"bump", "--path=x", "--role=peer"}), "--role: \"peer\" is not publisher or subscriber");
  EXPECT_EQ(ParseError({"bump", "--path=x", "--hold=-1s"}), "--hold: \"-1s\" is negative");
  EXPECT_EQ(ParseError({"--timeout=0", "info"}), "--timeout: must be above zero");
  EXPECT_EQ(ParseError({"--target=", "info"}), "--target: empty");
  EXPECT_EQ(ParseError({"--json=maybe", "info"}), "--json: \"maybe\" is not true or false");
  EXPECT_EQ(ParseError({"info", "--timeout"}), "--timeout needs a value");
  // The first error is the one reported.
  EXPECT_EQ(ParseError({"--frob", "--timeout=x", "info"}), "unknown flag --frob");
}

TEST(CliFlagsTest, ArgumentsAndTheEndOfFlags) {
  EXPECT_EQ(ParseError({}), "no command given");
  EXPECT_EQ(ParseError({"frob", "--help"}), "unknown command \"frob\"");
  EXPECT_EQ(ParseError({"get"}), "get: the level is missing (\"\" for the root)");
  EXPECT_EQ(ParseError({"levels", "a", "b"}), "levels: unexpected argument \"b\"");
  EXPECT_EQ(ParseError({"health", "x"}), "health: unexpected argument \"x\"");
  EXPECT_EQ(ParseError({"-x", "info"}), "unknown flag -x");
  auto dashed = Parse({"get", "--", "--help"});
  ASSERT_TRUE(dashed.ok()) << dashed.status();
  EXPECT_FALSE(dashed->show_help);
  EXPECT_EQ(dashed->argument, "--help");
  EXPECT_EQ(Parse({"levels", "-"})->argument, "-");
}

TEST(CliFlagsTest, TopFlags) {
  auto defaults = Parse({"top"});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->command, Command::kTop);
  EXPECT_EQ(defaults->top.prefix, "");
  EXPECT_EQ(defaults->top.interval, absl::Seconds(1));
  EXPECT_EQ(defaults->top.sort, TopSort::kBitrate);
  EXPECT_EQ(defaults->top.iterations, 0u);

  auto set = Parse({"top", "--prefix=tv/news", "--interval", "250ms", "--sort=viewers", "--iterations=3"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->top.prefix, "tv/news");
  EXPECT_EQ(set->top.interval, absl::Milliseconds(250));
  EXPECT_EQ(set->top.sort, TopSort::kViewers);
  EXPECT_EQ(set->top.iterations, 3u);
  EXPECT_EQ(Parse({"top", "--interval=2"})->top.interval, absl::Seconds(2));

  EXPECT_EQ(ParseError({"top", "--interval=10ms"}), "--interval: must be at least 100ms");
  EXPECT_EQ(ParseError({"top", "--sort=frames"}), "--sort: \"frames\" is not bitrate or viewers");
  EXPECT_EQ(ParseError({"top", "--iterations=-1"}), "--iterations: \"-1\" is not a number");
  EXPECT_EQ(ParseError({"top", "tv"}), "top: unexpected argument \"tv\"");
  EXPECT_EQ(ParseError({"levels", "--sort=viewers"}), "unknown flag --sort for levels");
  EXPECT_THAT(CommandUsage(Command::kTop),
              StartsWith("usage: moq-stats [global flags] top [--prefix=PREFIX] [--interval=DURATION]\n"
                         "           [--sort=bitrate|viewers] [--iterations=N]\n"));
}

TEST(CliFlagsTest, HelpWinsOverErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"--frob", "--help"}, {"--help=1"}, {"--timeout=0", "-h"}}) {
    auto inv = Parse(args);
    ASSERT_TRUE(inv.ok()) << inv.status();
    EXPECT_TRUE(inv->show_help);
    EXPECT_EQ(inv->help, GeneralUsage());
  }
  auto bump = Parse({"bump", "--tier=middle", "-h"});
  ASSERT_TRUE(bump.ok()) << bump.status();
  EXPECT_EQ(bump->help, CommandUsage(Command::kBump));
  // The last word wins.
  EXPECT_EQ(ParseError({"--help", "--help=false"}), "no command given");
}

TEST(CliFlagsTest, VersionNeedsNoCommandAndHelpWinsOverIt) {
  auto version = Parse({"--version"});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_TRUE(version->show_version);
  EXPECT_FALSE(version->show_help);
  auto both = Parse({"--version", "-h"});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(both->show_help);
  EXPECT_EQ(ParseError({"--version", "--frob"}), "unknown flag --frob");
  EXPECT_EQ(ParseError({"--version=false"}), "no command given");
}

TEST(CliFlagsTest, UsageLinesComeFromTheTables) {
  const std::string general = GeneralUsage();
  EXPECT_THAT(
      general,
      HasSubstr(
          "\nusage: moq-stats [--target=TARGET] [--json] [--timeout=DURATION] [--auth-token-file=PATH] [--tls-ca=PATH] "
          "[--tls-cert=PATH] [--tls-key=PATH] [--version] <command> [args]\n"));
  EXPECT_THAT(general, HasSubstr("\n  bump --path=PATH  count traffic on PATH through the relay-side library\n"));
  EXPECT_THAT(general,
              HasSubstr("\n  --target=TARGET     the sidecar, unix:PATH or HOST:PORT; default $MOQ_STATS_TARGET, "
                        "else unix:moq-stats.sock\n"));
  EXPECT_THAT(general, HasSubstr("\n  --timeout=DURATION  deadline of each call: \"5s\", \"500ms\", a plain number is\n"
                                 "                      seconds; default 5s\n"));
  EXPECT_THAT(CommandUsage(Command::kBump),
              StartsWith("usage: moq-stats [global flags] bump --path=PATH\n"
                         "           [--tier=external|internal|NAME] [--session=ROOT]\n"
                         "           [--role=publisher|subscriber] [--frames=N] [--bytes=N] [--groups=N]\n"
                         "           [--fetches=N] [--datagrams=N] [--announce] [--hold=DURATION]\n"
                         "\n"
                         "Counts traffic"));
  EXPECT_THAT(CommandUsage(Command::kGet), StartsWith("usage: moq-stats [global flags] get LEVEL\n\nShows one level"));
  EXPECT_STREQ(CommandName(Command::kHealth), "health");
}

}  // namespace
}  // namespace moq_stats::cli
