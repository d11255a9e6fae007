#include "server/sidecar_config.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/test_tools/sidecar_flags_testing.h"

namespace moq_stats::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using test::Described;
using test::Env;
using test::FakeGetEnv;
using test::Parse;
using test::ParseError;

const std::vector<std::string> kSettingFlags = {"stats-prefix",
                                                "stats-levels",
                                                "stats-node",
                                                "stats-interval",
                                                "stats-retention",
                                                "stats-format",
                                                "stats-depth",
                                                "listen",
                                                "admin-listen",
                                                "admin-max-connections",
                                                "admin-idle-timeout",
                                                "metrics-max-levels",
                                                "origin-url",
                                                "moq-listen",
                                                "moq-max-sessions",
                                                "moq-idle-timeout",
                                                "grace",
                                                "checkpoint-path",
                                                "checkpoint-interval",
                                                "max-sessions",
                                                "max-handles",
                                                "max-batch-entries",
                                                "max-levels",
                                                "max-tiers",
                                                "max-session-roots",
                                                "shutdown-timeout",
                                                "log-level",
                                                "auth-token-file",
                                                "tls-cert",
                                                "tls-key",
                                                "tls-client-ca",
                                                "allow-unauthenticated-reads",
                                                "insecure-listen",
                                                "listen-mode",
                                                "listen-group",
                                                "expose-grpc-introspection",
                                                "shutdown-delay",
                                                "health-probe-interval",
                                                "check-config"};

const std::map<std::string, std::string> kEnvOf = {
    {"stats-prefix", "MOQ_STATS_PREFIX"},
    {"stats-levels", "MOQ_STATS_LEVELS"},
    {"stats-node", "MOQ_STATS_NODE"},
    {"stats-interval", "MOQ_STATS_INTERVAL"},
    {"stats-retention", "MOQ_STATS_RETENTION"},
    {"stats-format", "MOQ_STATS_FORMAT"},
    {"stats-depth", "MOQ_STATS_DEPTH"},
    {"listen", "MOQ_STATS_LISTEN"},
    {"admin-listen", "MOQ_STATS_ADMIN_LISTEN"},
    {"admin-max-connections", "MOQ_STATS_ADMIN_MAX_CONNECTIONS"},
    {"admin-idle-timeout", "MOQ_STATS_ADMIN_IDLE_TIMEOUT"},
    {"metrics-max-levels", "MOQ_STATS_METRICS_MAX_LEVELS"},
    {"origin-url", "MOQ_STATS_ORIGIN_URL"},
    {"moq-listen", "MOQ_STATS_MOQ_LISTEN"},
    {"moq-max-sessions", "MOQ_STATS_MOQ_MAX_SESSIONS"},
    {"moq-idle-timeout", "MOQ_STATS_MOQ_IDLE_TIMEOUT"},
    {"grace", "MOQ_STATS_GRACE"},
    {"checkpoint-path", "MOQ_STATS_CHECKPOINT_PATH"},
    {"checkpoint-interval", "MOQ_STATS_CHECKPOINT_INTERVAL"},
    {"max-sessions", "MOQ_STATS_MAX_SESSIONS"},
    {"max-handles", "MOQ_STATS_MAX_HANDLES"},
    {"max-batch-entries", "MOQ_STATS_MAX_BATCH_ENTRIES"},
    {"max-levels", "MOQ_STATS_MAX_LEVELS"},
    {"max-tiers", "MOQ_STATS_MAX_TIERS"},
    {"max-session-roots", "MOQ_STATS_MAX_SESSION_ROOTS"},
    {"shutdown-timeout", "MOQ_STATS_SHUTDOWN_TIMEOUT"},
    {"log-level", "MOQ_STATS_LOG_LEVEL"},
    {"auth-token-file", "MOQ_STATS_AUTH_TOKEN_FILE"},
    {"tls-cert", "MOQ_STATS_TLS_CERT"},
    {"tls-key", "MOQ_STATS_TLS_KEY"},
    {"tls-client-ca", "MOQ_STATS_TLS_CLIENT_CA"},
    {"allow-unauthenticated-reads", "MOQ_STATS_ALLOW_UNAUTHENTICATED_READS"},
    {"insecure-listen", "MOQ_STATS_INSECURE_LISTEN"},
    {"listen-mode", "MOQ_STATS_LISTEN_MODE"},
    {"listen-group", "MOQ_STATS_LISTEN_GROUP"},
    {"expose-grpc-introspection", "MOQ_STATS_EXPOSE_GRPC_INTROSPECTION"},
    {"shutdown-delay", "MOQ_STATS_SHUTDOWN_DELAY"},
    {"health-probe-interval", "MOQ_STATS_HEALTH_PROBE_INTERVAL"},
};

// A good non-default value for each flag taking one, and how it is described.
struct Sample {
  std::string flag;
  std::string value;
  std::string described;
};
const std::vector<Sample> kSamples = {
    {"stats-prefix", ".metrics/moq", ".metrics/moq"},
    {"stats-levels", "3", "3"},
    {"stats-node", "sjc/1", "sjc/1"},
    {"stats-interval", "500ms", "500ms"},
    {"stats-retention", "2m", "2m"},
    {"stats-format", "levels,node", "levels,node"},
    {"stats-depth", "2", "2"},
    {"listen", "unix:/run/moq/stats.sock", "unix:/run/moq/stats.sock"},
    {"admin-listen", "0.0.0.0:9191", "0.0.0.0:9191"},
    {"admin-max-connections", "3", "3"},
    {"admin-idle-timeout", "1m30s", "1m30s"},
    {"metrics-max-levels", "0", "0"},
    {"origin-url", "ws://relay:4443/anon?jwt=tok", "ws://relay:4443/anon?jwt=..."},
    {"moq-listen", "[::1]:4451", "[::1]:4451"},
    {"moq-max-sessions", "3", "3"},
    {"moq-idle-timeout", "1m30s", "1m30s"},
    {"grace", "1m30s", "1m30s"},
    {"checkpoint-path", "/var/lib/moq/ckpt", "/var/lib/moq/ckpt"},
    {"checkpoint-interval", "250ms", "250ms"},
    {"max-sessions", "7", "7"},
    {"max-handles", "4294967295", "4294967295"},
    {"max-batch-entries", "9", "9"},
    {"max-levels", "10000000000", "10000000000"},
    {"max-tiers", "0", "0"},
    {"max-session-roots", "4294967295", "4294967295"},
    {"shutdown-timeout", "0", "0"},
    {"log-level", "warn", "warning"},
    {"health-probe-interval", "250ms", "250ms"},
};

TEST(SidecarConfigTest, DefaultsWithNoArgumentsAndNoEnvironment) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command, SidecarCommand::kRun);
  const SidecarConfig& c = parsed->config;
  EXPECT_EQ(c.stats.prefix, ".stats");
  EXPECT_EQ(c.stats.levels, 1u);
  EXPECT_EQ(c.stats.node, "");
  EXPECT_EQ(c.stats.interval, absl::Seconds(1));
  EXPECT_EQ(c.stats.retention, absl::Seconds(60));
  EXPECT_EQ(c.listen, (std::vector<std::string>{"unix:moq-stats.sock", "127.0.0.1:50051"}));
  EXPECT_EQ(c.admin_listen, "127.0.0.1:9090");
  EXPECT_EQ(c.admin_max_connections, 16u);
  EXPECT_EQ(c.admin_idle_timeout, absl::Seconds(30));
  EXPECT_EQ(c.metrics_max_levels, 1000u);
  EXPECT_EQ(c.grace, absl::Seconds(10));
  EXPECT_EQ(c.checkpoint_path, "moq-stats.checkpoint");
  EXPECT_EQ(c.checkpoint_interval, absl::Seconds(1));
  EXPECT_EQ(c.max_sessions, 1024u);
  EXPECT_EQ(c.max_handles, 65536u);
  EXPECT_EQ(c.max_batch_entries, 4096u);
  EXPECT_EQ(c.max_levels, 1'000'000u);
  EXPECT_EQ(c.shutdown_timeout, absl::Seconds(5));
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_FALSE(c.check_config);
  EXPECT_EQ(DescribeSidecarConfig(c), DescribeSidecarConfig(SidecarConfig{}));
}

TEST(SidecarConfigTest, NullGetEnvMeansNoEnvironment) {
  auto parsed = ParseSidecarFlags({"moq-stats-sidecar"}, GetEnvFn());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(DescribeSidecarConfig(parsed->config), DescribeSidecarConfig(SidecarConfig{}));
}

TEST(SidecarConfigTest, EveryFlagInBothForms) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.flag);
    auto joined = Parse({absl::StrCat("--", s.flag, "=", s.value)});
    ASSERT_TRUE(joined.ok()) << joined.status();
    EXPECT_EQ(Described(joined->config, s.flag), s.described);
    auto separate = Parse({absl::StrCat("--", s.flag), s.value});
    ASSERT_TRUE(separate.ok()) << separate.status();
    EXPECT_EQ(Described(separate->config, s.flag), s.described);
  }
}

TEST(SidecarConfigTest, ParsedValuesLandInTheirFields) {
  auto parsed = Parse({"--stats-prefix=.s", "--stats-levels", "2", "--stats-node=sjc", "--stats-interval=250ms",
                       "--stats-retention=0", "--admin-listen=", "--grace=3s",
                       "--checkpoint-path=", "--checkpoint-interval=2", "--max-sessions=5", "--max-handles=6",
                       "--max-batch-entries=7", "--max-levels=8", "--shutdown-timeout=1m", "--log-level=error"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const SidecarConfig& c = parsed->config;
  EXPECT_EQ(c.stats.prefix, ".s");
  EXPECT_EQ(c.stats.levels, 2u);
  EXPECT_EQ(c.stats.node, "sjc");
  EXPECT_EQ(c.stats.interval, absl::Milliseconds(250));
  EXPECT_EQ(c.stats.retention, absl::ZeroDuration());
  EXPECT_EQ(c.admin_listen, "");
  EXPECT_EQ(c.grace, absl::Seconds(3));
  EXPECT_EQ(c.checkpoint_path, "");
  EXPECT_EQ(c.checkpoint_interval, absl::Seconds(2));
  EXPECT_EQ(c.max_sessions, 5u);
  EXPECT_EQ(c.max_handles, 6u);
  EXPECT_EQ(c.max_batch_entries, 7u);
  EXPECT_EQ(c.max_levels, 8u);
  EXPECT_EQ(c.shutdown_timeout, absl::Minutes(1));
  EXPECT_EQ(c.log_level, LogLevel::kError);
}

TEST(SidecarConfigTest, EveryEnvironmentVariable) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.flag);
    Env env = {{kEnvOf.at(s.flag), s.value}};
    auto parsed = Parse({}, env);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(Described(parsed->config, s.flag), s.described);
  }
}

TEST(SidecarConfigTest, EmptyEnvironmentValueDisables) {
  Env env = {{"MOQ_STATS_ADMIN_LISTEN", ""}, {"MOQ_STATS_CHECKPOINT_PATH", ""}};
  auto parsed = Parse({}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.admin_listen, "");
  EXPECT_EQ(parsed->config.checkpoint_path, "");
}

TEST(SidecarConfigTest, CommandLineBeatsEnvironment) {
  Env env = {{"MOQ_STATS_LEVELS", "4"},
             {"MOQ_STATS_PREFIX", ".env"},
             {"MOQ_STATS_GRACE", "20s"},
             {"MOQ_STATS_LISTEN", "unix:env.sock"},
             {"MOQ_STATS_LOG_LEVEL", "debug"}};
  auto parsed = Parse({"--stats-levels=2", "--grace", "1s", "--listen=127.0.0.1:1"}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.stats.levels, 2u);
  EXPECT_EQ(parsed->config.grace, absl::Seconds(1));
  EXPECT_EQ(parsed->config.listen, (std::vector<std::string>{"127.0.0.1:1"}));
  // Not given on the command line: from the environment.
  EXPECT_EQ(parsed->config.stats.prefix, ".env");
  EXPECT_EQ(parsed->config.log_level, LogLevel::kDebug);
}

TEST(SidecarConfigTest, BadEnvironmentValueOverriddenOnTheCommandLineIsIgnored) {
  Env env = {{"MOQ_STATS_LEVELS", "lots"}};
  auto parsed = Parse({"--stats-levels=2"}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.stats.levels, 2u);
}

TEST(SidecarConfigTest, RepeatedFlagLastWins) {
  auto parsed = Parse({"--stats-levels=2", "--stats-levels=3"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.stats.levels, 3u);
}

TEST(SidecarConfigTest, ListenReplacesTheDefaultAndRepeats) {
  auto one = Parse({"--listen=unix:a.sock"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->config.listen, (std::vector<std::string>{"unix:a.sock"}));

  auto three = Parse({"--listen=unix:a.sock", "--listen", "[::1]:50051", "--listen=localhost:7"});
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->config.listen, (std::vector<std::string>{"unix:a.sock", "[::1]:50051", "localhost:7"}));
  EXPECT_EQ(Described(three->config, "listen"), "unix:a.sock,[::1]:50051,localhost:7");
}

TEST(SidecarConfigTest, ListenEnvironmentIsACommaSeparatedList) {
  Env env = {{"MOQ_STATS_LISTEN", "unix:/run/a.sock, 10.0.0.1:50051,[::]:50052,"},
             {"MOQ_STATS_INSECURE_LISTEN", "true"}};
  auto parsed = Parse({}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.listen, (std::vector<std::string>{"unix:/run/a.sock", "10.0.0.1:50051", "[::]:50052"}));
}

TEST(SidecarConfigTest, EmptyListenEnvironmentLeavesNoListener) {
  Env env = {{"MOQ_STATS_LISTEN", ""}};
  EXPECT_THAT(ParseError({}, env), StartsWith("MOQ_STATS_LISTEN: at least one"));
}

TEST(SidecarConfigTest, PlainNumberDurationIsSeconds) {
  auto parsed = Parse({"--stats-interval=5", "--grace", "0", "--shutdown-timeout=30"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.stats.interval, absl::Seconds(5));
  EXPECT_EQ(parsed->config.grace, absl::ZeroDuration());
  EXPECT_EQ(parsed->config.shutdown_timeout, absl::Seconds(30));

  Env env = {{"MOQ_STATS_INTERVAL", "2"}, {"MOQ_STATS_RETENTION", "90"}};
  auto from_env = Parse({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->config.stats.interval, absl::Seconds(2));
  EXPECT_EQ(from_env->config.stats.retention, absl::Seconds(90));
}

TEST(SidecarConfigTest, BadNumbersNameTheFlag) {
  const std::vector<std::string> uint32_flags = {"stats-levels", "max-sessions", "max-handles", "max-batch-entries"};
  for (const std::string& flag : uint32_flags) {
    for (const std::string bad : {"abc", "+5", " 5", "5 ", "-1", "5x", "0x10", "1e3", "", "4294967296"}) {
      SCOPED_TRACE(absl::StrCat(flag, " = '", bad, "'"));
      EXPECT_THAT(ParseError({absl::StrCat("--", flag, "=", bad)}), StartsWith(absl::StrCat("--", flag, ": ")));
    }
  }
  for (const std::string bad : {"abc", "+5", "-1", "18446744073709551616"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseError({"--max-levels", bad}), StartsWith("--max-levels: "));
  }
  EXPECT_EQ(ParseError({"--stats-levels=abc"}), "--stats-levels: \"abc\" is not a whole number");
  EXPECT_THAT(ParseError({"--stats-levels=4294967296"}), HasSubstr("out of range"));
  auto max = Parse({"--stats-levels=4294967295", "--max-levels=18446744073709551615"});
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->config.stats.levels, 4294967295u);
  EXPECT_EQ(max->config.max_levels, 18446744073709551615u);
}

TEST(SidecarConfigTest, BadDurationsNameTheFlag) {
  const std::vector<std::string> duration_flags = {"stats-interval",      "stats-retention",       "grace",
                                                   "checkpoint-interval", "health-probe-interval", "shutdown-timeout"};
  for (const std::string& flag : duration_flags) {
    for (const std::string bad : {"abc", "-1s", "-5", "inf", "5 s", "1.5", "", "10x", "99999999999999999999"}) {
      SCOPED_TRACE(absl::StrCat(flag, " = '", bad, "'"));
      EXPECT_THAT(ParseError({absl::StrCat("--", flag, "=", bad)}), StartsWith(absl::StrCat("--", flag, ": ")));
    }
  }
  EXPECT_THAT(ParseError({"--grace=-1s"}), HasSubstr("negative"));
  // The value after a flag is taken as its value even when it starts with '-'.
  EXPECT_THAT(ParseError({"--grace", "-1s"}), StartsWith("--grace: \"-1s\" is negative"));
}

TEST(SidecarConfigTest, BadLogLevelAndBooleanNameTheFlag) {
  EXPECT_THAT(ParseError({"--log-level=loud"}), StartsWith("--log-level: \"loud\""));
  EXPECT_THAT(ParseError({"--log-level", "INFO"}), StartsWith("--log-level: "));
  EXPECT_THAT(ParseError({"--check-config=maybe"}), StartsWith("--check-config: "));
}

TEST(SidecarConfigTest, BadEnvironmentValuesNameTheVariable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"MOQ_STATS_LEVELS", "abc"},
      {"MOQ_STATS_LEVELS", "+1"},
      {"MOQ_STATS_MAX_SESSIONS", "0"},
      {"MOQ_STATS_MAX_HANDLES", "-1"},
      {"MOQ_STATS_MAX_BATCH_ENTRIES", "0"},
      {"MOQ_STATS_MAX_LEVELS", "x"},
      {"MOQ_STATS_INTERVAL", "soon"},
      {"MOQ_STATS_INTERVAL", "0"},
      {"MOQ_STATS_RETENTION", "-1s"},
      {"MOQ_STATS_GRACE", "1 s"},
      {"MOQ_STATS_CHECKPOINT_INTERVAL", "0s"},
      {"MOQ_STATS_SHUTDOWN_TIMEOUT", "x"},
      {"MOQ_STATS_LOG_LEVEL", "verbose"},
      {"MOQ_STATS_PREFIX", ""},
      {"MOQ_STATS_NODE", "\xff"},
      {"MOQ_STATS_LISTEN", "host:"},
      {"MOQ_STATS_ADMIN_LISTEN", "nope"},
  };
  for (const auto& [var, value] : cases) {
    SCOPED_TRACE(var);
    Env env = {{var, value}};
    EXPECT_THAT(ParseError({}, env), StartsWith(absl::StrCat(var, ": ")));
  }
}

TEST(SidecarConfigTest, UnknownFlag) {
  EXPECT_EQ(ParseError({"--foo"}), "unknown flag --foo; see --help");
  EXPECT_EQ(ParseError({"--foo=bar"}), "unknown flag --foo; see --help");
  EXPECT_EQ(ParseError({"-x"}), "unknown flag -x; see --help");
  EXPECT_EQ(ParseError({"--stats-levels=2", "--stats_levels=2"}), "unknown flag --stats_levels; see --help");
}

TEST(SidecarConfigTest, MissingValueAtTheEnd) {
  EXPECT_EQ(ParseError({"--stats-levels"}), "--stats-levels: missing value");
  EXPECT_EQ(ParseError({"--grace=1s", "--listen"}), "--listen: missing value");
}

TEST(SidecarConfigTest, PositionalArgumentsRefused) {
  EXPECT_THAT(ParseError({"run"}), HasSubstr("\"run\""));
  EXPECT_THAT(ParseError({"--stats-levels", "2", "3"}), HasSubstr("\"3\""));
  EXPECT_THAT(ParseError({"--"}), HasSubstr("unexpected argument"));
  EXPECT_THAT(ParseError({"-"}), HasSubstr("unexpected argument"));
}

TEST(SidecarConfigTest, HelpAndVersion) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"--stats-levels=2", "--help"}, {"--bogus", "-h"}, {"--help", "positional"}}) {
    auto parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->command, SidecarCommand::kHelp);
  }
  // Help still works over a broken environment.
  Env env = {{"MOQ_STATS_LEVELS", "abc"}};
  auto help = Parse({"--help"}, env);
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_EQ(help->command, SidecarCommand::kHelp);

  auto version = Parse({"--version"});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->command, SidecarCommand::kVersion);
  auto version_env = Parse({"--version"}, env);
  ASSERT_TRUE(version_env.ok()) << version_env.status();
  EXPECT_EQ(version_env->command, SidecarCommand::kVersion);

  EXPECT_THAT(ParseError({"--help=yes"}), StartsWith("--help"));
  EXPECT_THAT(ParseError({"--version=1"}), StartsWith("--version"));
}

TEST(SidecarConfigTest, CheckConfig) {
  auto parsed = Parse({"--check-config"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command, SidecarCommand::kRun);
  EXPECT_TRUE(parsed->config.check_config);

  // A boolean flag does not take the next argument as its value.
  auto before_flag = Parse({"--check-config", "--stats-levels", "2"});
  ASSERT_TRUE(before_flag.ok()) << before_flag.status();
  EXPECT_TRUE(before_flag->config.check_config);
  EXPECT_EQ(before_flag->config.stats.levels, 2u);
  EXPECT_THAT(ParseError({"--check-config", "true"}), HasSubstr("\"true\""));

  auto off = Parse({"--check-config=false"});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->config.check_config);

  // No variable for it.
  Env env = {{"MOQ_STATS_CHECK_CONFIG", "true"}};
  auto from_env = Parse({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_FALSE(from_env->config.check_config);
}

TEST(SidecarConfigTest, DescribeListsEverySettingInFlagOrder) {
  auto described = DescribeSidecarConfig(SidecarConfig{});
  std::vector<std::string> names;
  for (const auto& [name, value] : described) names.push_back(name);
  EXPECT_EQ(names, kSettingFlags);

  std::map<std::string, std::string> values(described.begin(), described.end());
  EXPECT_EQ(values["stats-prefix"], ".stats");
  EXPECT_EQ(values["stats-levels"], "1");
  EXPECT_EQ(values["stats-node"], "");
  EXPECT_EQ(values["stats-interval"], "1s");
  EXPECT_EQ(values["stats-retention"], "1m");
  EXPECT_EQ(values["listen"], "unix:moq-stats.sock,127.0.0.1:50051");
  EXPECT_EQ(values["admin-listen"], "127.0.0.1:9090");
  EXPECT_EQ(values["origin-url"], "");
  EXPECT_EQ(values["moq-listen"], "127.0.0.1:4450");
  EXPECT_EQ(values["grace"], "10s");
  EXPECT_EQ(values["checkpoint-path"], "moq-stats.checkpoint");
  EXPECT_EQ(values["checkpoint-interval"], "1s");
  EXPECT_EQ(values["max-sessions"], "1024");
  EXPECT_EQ(values["max-handles"], "65536");
  EXPECT_EQ(values["max-batch-entries"], "4096");
  EXPECT_EQ(values["max-levels"], "1000000");
  EXPECT_EQ(values["shutdown-timeout"], "5s");
  EXPECT_EQ(values["log-level"], "info");
  EXPECT_EQ(values["check-config"], "false");
  EXPECT_EQ(values["admin-max-connections"], "16");
  EXPECT_EQ(values["health-probe-interval"], "5s");
}

TEST(SidecarConfigTest, UsageMentionsEveryFlagVariableAndDefault) {
  const std::string usage = SidecarUsage();
  for (const std::string& flag : kSettingFlags) EXPECT_THAT(usage, HasSubstr(absl::StrCat("--", flag))) << flag;
  for (const auto& [flag, env] : kEnvOf) EXPECT_THAT(usage, HasSubstr(env)) << flag;
  for (const std::string other : {"--help", "-h", "--version"}) EXPECT_THAT(usage, HasSubstr(other));
  for (const auto& [flag, value] : DescribeSidecarConfig(SidecarConfig{})) {
    if (flag == "check-config") continue;
    EXPECT_THAT(usage, HasSubstr(value.empty() ? "default \"\"" : absl::StrCat("default ", value))) << flag;
  }
}

}  // namespace
}  // namespace moq_stats::server
