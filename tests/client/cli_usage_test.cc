// End to end: the real moq-stats binary run as a subprocess: bump (its
// counts read back through get and from the daemon), how the target is
// chosen, and the exit statuses of usage errors (2), an unreachable sidecar
// (1) and --help (0). The helpers are in test_tools/cli_runner.h.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/test_tools/cli_runner.h"

namespace moq_stats::cli::test {
namespace {

using ::testing::HasSubstr;

TEST_F(CliTest, BumpThenGetShowsTheExactCountsOnTheRootAndTheFirstSegment) {
  RunResult bump = Run({"bump", "--path=demo/bbb", "--frames=10", "--bytes=1200", "--groups=3"});
  ASSERT_EQ(bump.exit_code, 0) << bump.description;
  EXPECT_THAT(bump.out, HasSubstr("sent: broadcasts 1 (closed 1), subscriptions 1 (closed 1), bytes 1200, frames 10, "
                                  "groups 3"));
  EXPECT_THAT(bump.out, HasSubstr("acknowledged: yes")) << bump.description;

  const std::vector<uint64_t> bumped = {1, 1, 1, 1, 1200, 10, 3};
  for (const std::string key : {"demo", "", "/"}) {
    SCOPED_TRACE(absl::StrCat("get \"", key, "\""));
    RunResult get = Run({"get", key});
    ASSERT_EQ(get.exit_code, 0) << get.description;
    EXPECT_EQ(GetRow(get.out, "external", "publisher"), bumped) << get.description;
    EXPECT_EQ(GetRow(get.out, "external", "subscriber"), kZeros) << get.description;
    EXPECT_EQ(GetRow(get.out, "internal", "publisher"), kZeros) << get.description;
    EXPECT_EQ(GetRow(get.out, "internal", "subscriber"), kZeros) << get.description;
    const std::string advertised = key == "demo" ? ".stats/prefix/demo" : ".stats/prefix";
    EXPECT_THAT(get.out, HasSubstr("advertised  " + advertised + "\n")) << get.description;
  }
  // The second segment is no level at the default depth of 1.
  RunResult deeper = Run({"get", "demo/bbb"});
  EXPECT_EQ(deeper.exit_code, 1) << deeper.description;

  // --json, and a subscriber bump in the internal tier.
  RunResult sub = Run({"--json", "bump", "--path=demo/other", "--tier=internal", "--role=subscriber", "--bytes=7"});
  ASSERT_EQ(sub.exit_code, 0) << sub.description;
  std::optional<google::protobuf::Value> report = ParseJson(sub.out);
  ASSERT_TRUE(report) << sub.description;
  EXPECT_EQ(StringMember(*report, "tier"), "internal");
  EXPECT_EQ(StringMember(*report, "role"), "subscriber");
  ASSERT_TRUE(Member(*report, "acknowledged"));
  EXPECT_TRUE(Member(*report, "acknowledged")->bool_value()) << sub.description;
  ASSERT_TRUE(Member(*report, "sent"));
  EXPECT_EQ(CountsOf(*Member(*report, "sent")), (std::vector<uint64_t>{1, 1, 1, 1, 7, 0, 0}));

  RunResult get = Run({"get", "demo", "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.description;
  ASSERT_EQ(Lines(get.out).size(), 1u) << get.description;
  std::optional<google::protobuf::Value> level = ParseJson(get.out);
  ASSERT_TRUE(level) << "not JSON: " << get.description;
  EXPECT_EQ(StringMember(*level, "key"), "demo");
  EXPECT_EQ(StringMember(*level, "advertised_path"), ".stats/prefix/demo");
  ASSERT_TRUE(Member(*level, "publishing"));
  EXPECT_EQ(Member(*level, "publishing")->kind_case(), google::protobuf::Value::kBoolValue);
  ASSERT_TRUE(Member(*level, "external_publisher") && Member(*level, "internal_subscriber"));
  EXPECT_EQ(CountsOf(*Member(*level, "external_publisher")), bumped);
  EXPECT_EQ(CountsOf(*Member(*level, "internal_subscriber")), (std::vector<uint64_t>{1, 1, 1, 1, 7, 0, 0}));
  EXPECT_EQ(CountsOf(*Member(*level, "external_subscriber")), kZeros);
  EXPECT_EQ(CountsOf(*Member(*level, "internal_publisher")), kZeros);

  // What the CLI shows is what the sidecar holds.
  const pb::Level direct = GetLevelDirect("demo");
  EXPECT_EQ(CountsOf(direct.external_publisher()), bumped);
  EXPECT_EQ(Member(*level, "publishing")->bool_value(), direct.publishing());
}

TEST_F(CliTest, TargetComesFromTheEnvironmentAndDefaultsToTheSocketInTheWorkingDirectory) {
  RunResult from_env = RunCli({"health"}, {"MOQ_STATS_TARGET=" + daemon_.target()});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.description;
  // The flag wins over the variable.
  RunResult flag_wins = RunCli({"--target=" + daemon_.target(), "health"}, {"MOQ_STATS_TARGET=unix:/nonexistent"});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.description;
  // unix:moq-stats.sock in the working directory.
  DaemonProcess defaults({"--listen=unix:moq-stats.sock"});
  ASSERT_TRUE(defaults.Start());
  RunResult by_default = RunCli({"health"}, {}, defaults.dir());
  EXPECT_EQ(by_default.exit_code, 0) << by_default.description;
}

// ---------------------------------------------------------------------------
// Without a sidecar.

TEST(CliUsageTest, UsageErrorsExitTwoWithAMessage) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no command given"},
      {{"frob"}, "unknown command \"frob\""},
      {{"--frob", "info"}, "unknown flag --frob"},
      {{"info", "--path=x"}, "unknown flag --path for info"},
      {{"get"}, "the level is missing"},
      {{"get", "a", "b"}, "unexpected argument \"b\""},
      {{"info", "extra"}, "unexpected argument \"extra\""},
      {{"bump"}, "--path is missing"},
      {{"bump", "--path=x", "--frames=abc"}, "--frames: \"abc\" is not a number"},
      {{"bump", "--path=x", "--bytes=-1"}, "--bytes: \"-1\" is not a number"},
      {{"bump", "--path=x", "--bytes=99999999999999999999"}, "out of range"},
      {{"bump", "--path=x", "--frames=100000001"}, "above the limit"},
      {{"bump", "--path=x", "--tier=a/b"}, "--tier: \"a/b\" is not external, internal or a tier name"},
      {{"bump", "--path=x", "--tier=.."}, "--tier: \"..\" is not external, internal or a tier name"},
      {{"bump", "--path=x", "--tier=\xff"}, "tier label: "},
      {{"bump", "--path=x", "--role=peer"}, "--role"},
      {{"bump", "--path=x", "--hold=forever"}, "is not a duration"},
      {{"--timeout=0", "info"}, "--timeout: must be above zero"},
      {{"--timeout=soon", "info"}, "--timeout"},
      {{"info", "--target"}, "--target needs a value"},
      {{"--json=maybe", "info"}, "--json"},
  };
  for (const auto& [args, message] : cases) {
    RunResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << r.description;
    EXPECT_THAT(r.err, ::testing::StartsWith("moq-stats: ")) << r.description;
    EXPECT_THAT(r.err, HasSubstr(message)) << r.description;
    EXPECT_EQ(r.out, "") << r.description;
  }
}

TEST(CliUsageTest, HelpExitsZero) {
  RunResult general = RunCli({"--help"});
  EXPECT_EQ(general.exit_code, 0) << general.description;
  for (const char* command : {"levels", "get", "watch", "bump", "health", "info"}) {
    EXPECT_THAT(general.out, HasSubstr(absl::StrCat("  ", command, " "))) << command;
    // Per command, even with its arguments missing.
    RunResult own = RunCli({command, "--help"});
    EXPECT_EQ(own.exit_code, 0) << own.description;
    EXPECT_THAT(own.out, HasSubstr(absl::StrCat("usage: moq-stats [global flags] ", command))) << own.description;
  }
}

TEST(CliUsageTest, AnUnreachableSidecarExitsOneNamingTheTarget) {
  TempDir dir;
  const std::string target = "unix:" + dir.path() + "/no-such.sock";
  const std::vector<std::vector<std::string>> commands = {
      {"get", ""}, {"levels"}, {"info"}, {"health"}, {"watch"}, {"--timeout=1s", "bump", "--path=a/b"}};
  for (std::vector<std::string> args : commands) {
    args.insert(args.begin(), "--target=" + target);
    RunResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << r.description;
    EXPECT_THAT(r.err, HasSubstr("moq-stats: cannot reach the sidecar at " + target + ": ")) << r.description;
  }
}

}  // namespace
}  // namespace moq_stats::cli::test
