// End to end: the real moq-stats binary's reading commands (levels, get,
// info, health, watch) run as a subprocess against the real daemon. What it
// prints must be what the sidecar holds (checked against the counts bumped
// and against the daemon's own answers) and its --json output must parse as
// JSON. The helpers are in test_tools/cli_runner.h.

#include <signal.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/test_tools/cli_runner.h"

namespace moq_stats::cli::test {
namespace {

using ::testing::HasSubstr;

TEST_F(CliTest, LevelsListsEveryLevelAsTextAndAsOneJsonObjectPerLine) {
  ASSERT_EQ(Run({"bump", "--path=alpha/x", "--frames=2", "--bytes=30"}).exit_code, 0);
  ASSERT_EQ(Run({"bump", "--path=beta/y", "--frames=5", "--groups=1"}).exit_code, 0);

  RunResult text = Run({"levels"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  auto root = LevelsRow(text.out, "\"\"", "external", "publisher");
  auto alpha = LevelsRow(text.out, "alpha", "external", "publisher");
  auto beta = LevelsRow(text.out, "beta", "external", "publisher");
  ASSERT_TRUE(root && alpha && beta) << text.description;
  EXPECT_EQ((*alpha)[1], ".stats/prefix/alpha");
  // CREATED: the level's creation time as the sidecar holds it, UTC.
  EXPECT_EQ((*alpha)[3], absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                          absl::FromUnixMillis(int64_t(GetLevelDirect("alpha").created_unix_ms())),
                                          absl::UTCTimeZone()));
  EXPECT_EQ(NumbersAfter(*root, 6), (std::vector<uint64_t>{2, 2, 2, 2, 30, 7, 1}));
  EXPECT_EQ(NumbersAfter(*alpha, 6), (std::vector<uint64_t>{1, 1, 1, 1, 30, 2, 0}));
  EXPECT_EQ(NumbersAfter(*beta, 6), (std::vector<uint64_t>{1, 1, 1, 1, 0, 5, 1}));
  auto beta_internal = LevelsRow(text.out, "beta", "internal", "subscriber");
  ASSERT_TRUE(beta_internal) << text.description;
  EXPECT_EQ(NumbersAfter(*beta_internal, 6), kZeros);
  // A header and four rows per level.
  EXPECT_EQ(Lines(text.out).size(), 1u + 3 * 4) << text.description;

  RunResult json = Run({"levels", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::vector<std::string> lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 3u) << json.description;
  std::vector<std::string> keys;
  for (const std::string& line : lines) {
    std::optional<google::protobuf::Value> level = ParseJson(line);
    ASSERT_TRUE(level) << "not JSON: " << line;
    keys.push_back(StringMember(*level, "key"));
    const pb::Level direct = GetLevelDirect(keys.back());
    ASSERT_TRUE(Member(*level, "external_publisher")) << line;
    EXPECT_EQ(CountsOf(*Member(*level, "external_publisher")), CountsOf(direct.external_publisher())) << line;
    EXPECT_EQ(StringMember(*level, "advertised_path"), direct.advertised_path());
    const google::protobuf::Value* created = Member(*level, "created_unix_ms");
    ASSERT_TRUE(created) << line;
    EXPECT_NE(direct.created_unix_ms(), 0u);
    EXPECT_EQ(created->number_value(), double(direct.created_unix_ms())) << line;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"", "alpha", "beta"}));

  // Under a prefix: that level only.
  RunResult under = Run({"--json", "levels", "beta"});
  ASSERT_EQ(under.exit_code, 0) << under.description;
  ASSERT_EQ(Lines(under.out).size(), 1u) << under.description;
  std::optional<google::protobuf::Value> beta_json = ParseJson(under.out);
  ASSERT_TRUE(beta_json) << under.description;
  EXPECT_EQ(StringMember(*beta_json, "key"), "beta");

  RunResult none = Run({"levels", "gamma"});
  EXPECT_EQ(none.exit_code, 0) << none.description;
  EXPECT_EQ(none.out, "no levels under \"gamma\"\n");
}

TEST_F(CliTest, JsonStringsAreEscaped) {
  // A path with a quote, a backslash and non-ASCII text, all valid in a path.
  const std::string odd = "q\"uo\\te \xc3\xa9t\xc3\xa9";
  ASSERT_EQ(Run({"bump", "--path=" + odd + "/x", "--frames=1"}).exit_code, 0);
  RunResult json = Run({"--json", "get", odd});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> level = ParseJson(json.out);
  ASSERT_TRUE(level) << "not JSON: " << json.description;
  EXPECT_EQ(StringMember(*level, "key"), odd);
  EXPECT_EQ(StringMember(*level, "advertised_path"), ".stats/prefix/" + odd);
}

TEST_F(CliTest, HealthPrintsServingAndExitsZero) {
  RunResult text = Run({"health"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  EXPECT_THAT(text.out, ::testing::MatchesRegex(
                            "SERVICE +STATUS\n\"\" \\(the server\\) +SERVING\nmoq.stats.v1.StatsService +SERVING\n"));

  RunResult json = Run({"health", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> health = ParseJson(json.out);
  ASSERT_TRUE(health) << json.description;
  ASSERT_TRUE(Member(*health, "services") && Member(*health, "serving")) << json.description;
  EXPECT_EQ(StringMember(*Member(*health, "services"), ""), "SERVING");
  EXPECT_EQ(StringMember(*Member(*health, "services"), "moq.stats.v1.StatsService"), "SERVING");
  EXPECT_TRUE(Member(*health, "serving")->bool_value());
}

TEST_F(CliTest, InfoShowsTheVersionConfigAndCountersOfTheSidecar) {
  ASSERT_EQ(Run({"bump", "--path=i/x", "--frames=1"}).exit_code, 0);
  auto stub = daemon_.NewStub();
  grpc::ClientContext context;
  pb::GetInfoResponse direct;
  ASSERT_GRPC_OK(stub->GetInfo(&context, pb::GetInfoRequest(), &direct));
  // Nothing changes it from here on.
  const double applied_batches = direct.counters().at("moq_stats_batches_applied_total");
  ASSERT_GE(applied_batches, 1);

  RunResult text = Run({"info"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  EXPECT_THAT(text.out, HasSubstr("version  " + direct.version() + "\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("\nstats-interval +100ms\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("\nlisten +unix:" + daemon_.socket_path() + "\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex(absl::StrCat("\nmoq_stats_batches_applied_total +",
                                                              static_cast<uint64_t>(applied_batches), "\n")));

  RunResult json = Run({"info", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> info = ParseJson(json.out);
  ASSERT_TRUE(info) << json.description;
  EXPECT_EQ(StringMember(*info, "version"), direct.version());
  ASSERT_TRUE(Member(*info, "config") && Member(*info, "counters") && Member(*info, "uptime_seconds"));
  EXPECT_GT(Member(*info, "uptime_seconds")->number_value(), 0);
  for (const auto& [name, value] : direct.config()) {
    EXPECT_EQ(StringMember(*Member(*info, "config"), name), value) << name;
  }
  EXPECT_EQ(Member(*info, "config")->struct_value().fields().size(), direct.config().size());
  const google::protobuf::Value* applied = Member(*Member(*info, "counters"), "moq_stats_batches_applied_total");
  ASSERT_TRUE(applied) << json.description;
  EXPECT_EQ(applied->number_value(), applied_batches);
}

TEST_F(CliTest, WatchPrintsTheFramesOfALevelWhileABumpHoldsItsGuards) {
  // The bump holds its guards (so the level publishes) until told to stop.
  CliProcess bump(
      {"--target=" + daemon_.target(), "bump", "--path=live/x", "--frames=7", "--bytes=4321", "--hold=60s"});
  // Watchers connect once the level publishes: a stats broadcast started
  // after Watch was called is announced but its frames never come (the
  // daemon bug exposed in tests/integration/watch_integration_test.cc).
  const absl::Time deadline = absl::Now() + kWait;
  pb::Level level;
  while (absl::Now() < deadline) {
    if (FindLevel("live", &level).ok() && level.publishing() && level.external_publisher().bytes() == 4321) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling the sidecar, not waiting for a guess
  }
  ASSERT_TRUE(level.publishing() && level.external_publisher().bytes() == 4321) << level.ShortDebugString();
  const std::string advertised = level.advertised_path();
  ASSERT_EQ(advertised, ".stats/prefix/live");

  CliProcess text({"--target=" + daemon_.target(), "watch", advertised});
  CliProcess json({"--target=" + daemon_.target(), "--json", "watch", ".stats"});
  const std::string counts =
      "\"broadcasts\":1,\"broadcasts_closed\":0,\"subscriptions\":1,"
      "\"subscriptions_closed\":0,\"bytes\":4321,\"frames\":7,\"groups\":0";
  const std::string frame_line = "\"level\":\"live\",\"tier\":\"external\",\"role\":\"publisher\",";
  auto has_frame = [&](const std::string& out) {
    for (const std::string& line : Lines(out)) {
      if (absl::StrContains(line, frame_line) && absl::StrContains(line, counts)) return true;
    }
    return false;
  };
  ASSERT_TRUE(text.ReadUntil(has_frame, kWait)) << text.Describe();
  ASSERT_TRUE(json.ReadUntil(has_frame, kWait)) << json.Describe();

  text.Signal(SIGINT);
  json.Signal(SIGINT);
  EXPECT_EQ(text.Wait(), 0) << text.Describe();
  EXPECT_EQ(json.Wait(), 0) << json.Describe();

  // Text: the announcement, then payloads exactly as published (JSON objects).
  std::vector<std::string> text_lines = Lines(text.out());
  ASSERT_FALSE(text_lines.empty());
  EXPECT_EQ(text_lines[0], "# announce " + advertised);
  for (size_t i = 1; i < text_lines.size(); ++i) {
    EXPECT_TRUE(ParseJson(text_lines[i])) << "not a JSON payload: " << text_lines[i];
  }

  // JSON: every line an object; the frame of the level carries its payload
  // inlined.
  bool announced = false, found = false;
  for (const std::string& line : Lines(json.out())) {
    std::optional<google::protobuf::Value> event = ParseJson(line);
    ASSERT_TRUE(event && event->has_struct_value()) << "not a JSON object: " << line;
    if (StringMember(*event, "announce") == advertised) announced = true;
    if (StringMember(*event, "path") != advertised || StringMember(*event, "track") != "publisher.json") continue;
    const google::protobuf::Value* frame = Member(*event, "frame");
    ASSERT_TRUE(frame && Member(*event, "sequence")) << line;
    if (CountsOf(*frame) == std::vector<uint64_t>{1, 0, 1, 0, 4321, 7, 0}) {
      found = true;
      EXPECT_EQ(StringMember(*frame, "level"), "live");
    }
  }
  EXPECT_TRUE(announced) << json.Describe();
  EXPECT_TRUE(found) << json.Describe();

  // Ctrl-C ends the hold early; the guards are closed and acknowledged.
  bump.Signal(SIGINT);
  ASSERT_EQ(bump.Wait(), 0) << bump.Describe();
  EXPECT_THAT(bump.out(), HasSubstr("(ended early by a signal)"));
  EXPECT_THAT(bump.out(), HasSubstr("acknowledged: yes"));
  EXPECT_EQ(CountsOf(GetLevelDirect("live").external_publisher()), (std::vector<uint64_t>{1, 1, 1, 1, 4321, 7, 0}));
}

TEST_F(CliTest, GetOfAMissingLevelExitsOneWithNotFound) {
  RunResult get = Run({"get", "no/such"});
  EXPECT_EQ(get.exit_code, 1) << get.description;
  EXPECT_THAT(get.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(get.err, HasSubstr("no level \"no/such\""));
  EXPECT_EQ(get.out, "");
}

}  // namespace
}  // namespace moq_stats::cli::test
