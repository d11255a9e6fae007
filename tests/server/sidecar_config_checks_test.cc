// Settings checked beyond one flag at a time: the stats settings as
// Stats::Create checks them, listen addresses and their exposure, limits and
// intervals, the unix socket's mode, the stats formats, and unknown
// MOQ_STATS_* variables.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sidecar_config.h"
#include "tests/server/test_tools/sidecar_flags_testing.h"

namespace moq_stats::server {
namespace {

using test::Described;
using test::Env;
using test::Parse;
using test::ParseError;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(SidecarConfigTest, EmptyPrefixRefusedWhileLevelsArePositive) {
  EXPECT_THAT(ParseError({"--stats-prefix="}), StartsWith("--stats-prefix: "));
  EXPECT_THAT(ParseError({"--stats-prefix", "/", "--stats-levels=3"}), StartsWith("--stats-prefix: "));

  auto disabled = Parse({"--stats-prefix=", "--stats-levels=0"});
  ASSERT_TRUE(disabled.ok()) << disabled.status();
  EXPECT_EQ(disabled->config.stats.levels, 0u);

  SidecarConfig config;
  config.stats.prefix = "";
  EXPECT_THAT(std::string(ValidateSidecarConfig(config).message()), StartsWith("--stats-prefix: "));
  config.stats.levels = 0;
  EXPECT_TRUE(ValidateSidecarConfig(config).ok());
}

TEST(SidecarConfigTest, StatsSettingsAsStatsCreateChecksThem) {
  EXPECT_THAT(ParseError({"--stats-interval=0"}), StartsWith("--stats-interval: "));
  EXPECT_THAT(ParseError({"--stats-node=\xff"}), StartsWith("--stats-node: "));
  EXPECT_THAT(ParseError({std::string("--stats-prefix=") + std::string(2000, 'a')}), StartsWith("--stats-prefix: "));
  auto zero_retention = Parse({"--stats-retention=0"});
  EXPECT_TRUE(zero_retention.ok()) << zero_retention.status();

  SidecarConfig config;
  config.stats.retention = absl::Seconds(-1);
  absl::Status s = ValidateSidecarConfig(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("--stats-retention: "));

  // All of them go unchecked while the aggregator is disabled.
  auto disabled = Parse({"--stats-levels=0", "--stats-interval=0"});
  EXPECT_TRUE(disabled.ok()) << disabled.status();
}

TEST(SidecarConfigTest, WellFormedListenAddressesAccepted) {
  for (const std::string good :
       {"unix:moq.sock", "unix:/run/moq/stats.sock", "127.0.0.1:0", "0.0.0.0:65535", "[::1]:50051", "[::]:1",
        "[fe80::1%eth0]:1", "[::ffff:10.0.0.1]:80", "localhost:50051", "relay-1.example.com:443", "moq_relay:1"}) {
    SCOPED_TRACE(good);
    auto parsed = Parse({"--listen", good, "--insecure-listen"});
    EXPECT_TRUE(parsed.ok()) << parsed.status();
  }
}

TEST(SidecarConfigTest, MalformedListenAddressesRefused) {
  for (const std::string bad : {":",        "host:",     "host:99999",   "unix:",    "[::1",         "a:b:c",
                                "",         "localhost", ":50051",       "[::1]",    "[::1]x",       "[::1]:",
                                "[zz]:1",   "[]:1",      "[fe80::1%]:1", "1.2.3:80", "999.1.1.1:80", "-bad-:80",
                                "ho st:80", "a..b:80",   "host:12ab",    "host:+80", "host:-1",      "host: 80",
                                "::1:50051"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseError({"--listen", bad}), StartsWith("--listen: "));
  }
  EXPECT_THAT(ParseError({"--listen=host:99999"}), HasSubstr("out of range"));
  EXPECT_THAT(ParseError({"--listen=unix:"}), HasSubstr("empty path"));
}

TEST(SidecarConfigTest, UnixSocketPathMustFitSockaddr) {
  EXPECT_TRUE(Parse({"--listen=unix:" + std::string(107, 'a')}).ok());
  EXPECT_THAT(ParseError({"--listen=unix:" + std::string(108, 'a')}), StartsWith("--listen: "));
}

TEST(SidecarConfigTest, DuplicateListenAddressRefused) {
  EXPECT_THAT(ParseError({"--listen=unix:a.sock", "--listen=unix:a.sock"}), HasSubstr("twice"));
}

TEST(SidecarConfigTest, AdminListen) {
  auto disabled = Parse({"--admin-listen="});
  ASSERT_TRUE(disabled.ok()) << disabled.status();
  EXPECT_EQ(disabled->config.admin_listen, "");
  auto v6 = Parse({"--admin-listen", "[::1]:9090"});
  EXPECT_TRUE(v6.ok()) << v6.status();
  for (const std::string bad : {":", "host:", "host:99999", "[::1", "a:b:c", "9090", "unix:admin.sock"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseError({"--admin-listen", bad}), StartsWith("--admin-listen: "));
  }
}

TEST(SidecarConfigTest, LimitsAndIntervalsInRange) {
  for (const std::string flag : {"max-sessions", "max-handles", "max-levels", "admin-max-connections"}) {
    SCOPED_TRACE(flag);
    EXPECT_THAT(ParseError({absl::StrCat("--", flag, "=0")}), StartsWith(absl::StrCat("--", flag, ": ")));
    EXPECT_TRUE(Parse({absl::StrCat("--", flag, "=1")}).ok());
  }
  // A handle's define, two deltas and release must fit in one batch.
  EXPECT_THAT(ParseError({"--max-batch-entries=3"}), StartsWith("--max-batch-entries: must be at least 4"));
  EXPECT_TRUE(Parse({"--max-batch-entries=4"}).ok());
  EXPECT_THAT(ParseError({"--checkpoint-interval=0"}), StartsWith("--checkpoint-interval: "));
  EXPECT_THAT(ParseError({"--checkpoint-interval=0s"}), StartsWith("--checkpoint-interval: "));
  EXPECT_TRUE(Parse({"--grace=0", "--stats-retention=0s", "--shutdown-timeout=0"}).ok());
  EXPECT_THAT(ParseError({"--admin-idle-timeout=0"}), StartsWith("--admin-idle-timeout: "));
  EXPECT_TRUE(Parse({"--metrics-max-levels=0"}).ok());
}

TEST(SidecarConfigTest, ValidateSidecarConfig) {
  EXPECT_TRUE(ValidateSidecarConfig(SidecarConfig{}).ok());

  SidecarConfig no_listener;
  no_listener.listen.clear();
  absl::Status s = ValidateSidecarConfig(no_listener);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("--listen: "));

  SidecarConfig negative;
  negative.grace = absl::Seconds(-1);
  EXPECT_THAT(std::string(ValidateSidecarConfig(negative).message()), StartsWith("--grace: "));

  SidecarConfig zero_sessions;
  zero_sessions.max_sessions = 0;
  EXPECT_THAT(std::string(ValidateSidecarConfig(zero_sessions).message()), StartsWith("--max-sessions: "));

  SidecarConfig bad_admin;
  bad_admin.admin_listen = "127.0.0.1";
  EXPECT_THAT(std::string(ValidateSidecarConfig(bad_admin).message()), StartsWith("--admin-listen: "));
}

TEST(SidecarConfigTest, ListenModeIsAnOctalFileMode) {
  auto parsed = Parse({"--listen-mode=0600"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.listen_mode, 0600u);
  EXPECT_EQ(Described(parsed->config, "listen-mode"), "0600");
  parsed = Parse({"--listen-mode", "770"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.listen_mode, 0770u);
  for (const std::string bad : {"", "0800", "rw-rw----", "01777", "-1", "9"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseError({"--listen-mode=" + bad}), StartsWith("--listen-mode: "));
  }
}

TEST(SidecarConfigTest, AListenerBeyondLoopbackNeedsAuthenticationOrInsecureListen) {
  EXPECT_THAT(ParseError({"--listen=0.0.0.0:50051"}), HasSubstr("--insecure-listen"));
  EXPECT_TRUE(Parse({"--listen=0.0.0.0:50051", "--insecure-listen"}).ok());
  EXPECT_TRUE(Parse({"--listen=0.0.0.0:50051", "--auth-token-file=/etc/moq-stats/tokens"}).ok());
  Env env = {{"MOQ_STATS_LISTEN", "[::]:50051"}};
  EXPECT_THAT(ParseError({}, env), StartsWith("MOQ_STATS_LISTEN: "));
  EXPECT_THAT(ParseError({"--listen=0.0.0.0:1", "--tls-client-ca=ca.pem"}), StartsWith("--tls-client-ca: needs"));
}

TEST(UnknownSidecarEnvTest, NamesOnlyMoqStatsVariablesNoFlagReads) {
  EXPECT_THAT(UnknownSidecarEnv({"PATH", "MOQ_STATS_PREFIX", "MOQ_STATS_LEVLES", "MOQ_STATS_GRACE", "MOQ_STATSX"}),
              ::testing::ElementsAre("MOQ_STATS_LEVLES"));
  EXPECT_TRUE(UnknownSidecarEnv({}).empty());
}

TEST(SidecarConfigFormatTest, EachFormatSetsWhatIsPublished) {
  struct Case {
    std::string value;
    bool publish_levels;
    bool count_paths;
  } cases[] = {
      {"levels", true, false}, {"node", false, true}, {"levels,node", true, true}, {"node,levels", true, true}};
  for (const Case& c : cases) {
    auto parsed = ParseSidecarFlags({"moq-stats-sidecar", "--stats-format=" + c.value}, nullptr);
    ASSERT_TRUE(parsed.ok()) << c.value << ": " << parsed.status();
    EXPECT_EQ(parsed->config.stats.publish_levels, c.publish_levels) << c.value;
    EXPECT_EQ(parsed->config.stats.count_paths, c.count_paths) << c.value;
  }
  auto defaults = ParseSidecarFlags({"moq-stats-sidecar"}, nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->config.stats.publish_levels);
  EXPECT_FALSE(defaults->config.stats.count_paths);
  EXPECT_EQ(defaults->config.stats_depth, 0u);
}

TEST(SidecarConfigFormatTest, AnUnknownFormatIsRefusedNamingTheChoices) {
  auto parsed = ParseSidecarFlags({"moq-stats-sidecar", "--stats-format=nodes"}, nullptr);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "--stats-format: \"nodes\" is not levels, node or levels,node");
}

}  // namespace
}  // namespace moq_stats::server
