// The bridge's flags: --origin-url, --moq-listen and the MoQ listener's
// session bounds.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sidecar_config.h"
#include "tests/server/test_tools/sidecar_flags_testing.h"

namespace moq_stats::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using test::Described;
using test::Env;
using test::Parse;
using test::ParseError;

TEST(SidecarConfigBridgeTest, DefaultsServeOnLoopbackAndDialNothing) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.origin_url, "");
  EXPECT_EQ(parsed->config.moq_listen, "127.0.0.1:4450");
  EXPECT_FALSE(parsed->config.moq_listen_given);
}

TEST(SidecarConfigBridgeTest, ValidOriginUrls) {
  for (const char* url : {"ws://relay:4443/anon", "ws://relay/x?jwt=a.b.c", "tcp://10.0.0.2:4444", "ws://[::1]:80/"}) {
    auto parsed = Parse({"--origin-url", url});
    ASSERT_TRUE(parsed.ok()) << url << ": " << parsed.status();
    EXPECT_EQ(parsed->config.origin_url, url);
  }
}

TEST(SidecarConfigBridgeTest, InvalidOriginUrlsNameTheFlag) {
  EXPECT_THAT(ParseError({"--origin-url=wss://relay/x"}),
              AllOf(StartsWith("--origin-url: "), HasSubstr("TLS is not supported")));
  EXPECT_THAT(ParseError({"--origin-url=https://relay/x"}), StartsWith("--origin-url: "));
  EXPECT_THAT(ParseError({"--origin-url=relay:4443"}), StartsWith("--origin-url: "));
  EXPECT_THAT(ParseError({"--origin-url=tcp://relay"}), StartsWith("--origin-url: "));
  EXPECT_THAT(ParseError({}, {{"MOQ_STATS_ORIGIN_URL", "quic://relay:1"}}), StartsWith("MOQ_STATS_ORIGIN_URL: "));
}

TEST(SidecarConfigBridgeTest, TokenNeverShown) {
  auto parsed = Parse({"--origin-url=ws://relay/x?jwt=sekrit"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Described(parsed->config, "origin-url"), "ws://relay/x?jwt=...");
  EXPECT_THAT(ParseError({"--origin-url=wss://relay/x?jwt=sekrit"}), Not(HasSubstr("sekrit")));
}

TEST(SidecarConfigBridgeTest, MoqListenAddressesAndOff) {
  for (const char* value : {"off", "0.0.0.0:4450", "[::]:0", "localhost:4450"}) {
    auto parsed = Parse({"--moq-listen", value});
    ASSERT_TRUE(parsed.ok()) << value << ": " << parsed.status();
    EXPECT_EQ(parsed->config.moq_listen, value);
    EXPECT_TRUE(parsed->config.moq_listen_given);
    EXPECT_EQ(Described(parsed->config, "moq-listen"), value);
  }
  for (const char* bad : {"", "4450", "::1:4450", "host:99999", "unix:/x.sock", "OFF"}) {
    EXPECT_THAT(ParseError({std::string("--moq-listen=") + bad}), StartsWith("--moq-listen: ")) << bad;
  }
}

TEST(SidecarConfigBridgeTest, EnvironmentAndCommandLine) {
  Env env = {{"MOQ_STATS_ORIGIN_URL", "tcp://relay:4444"}, {"MOQ_STATS_MOQ_LISTEN", "off"}};
  auto parsed = Parse({}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.origin_url, "tcp://relay:4444");
  EXPECT_EQ(parsed->config.moq_listen, "off");
  EXPECT_TRUE(parsed->config.moq_listen_given);

  parsed = Parse({"--moq-listen=127.0.0.1:5000", "--origin-url="}, env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.origin_url, "");
  EXPECT_EQ(parsed->config.moq_listen, "127.0.0.1:5000");

  EXPECT_THAT(ParseError({}, {{"MOQ_STATS_MOQ_LISTEN", "nowhere"}}), StartsWith("MOQ_STATS_MOQ_LISTEN: "));
  EXPECT_TRUE(UnknownSidecarEnv({"MOQ_STATS_ORIGIN_URL", "MOQ_STATS_MOQ_LISTEN"}).empty());
}

TEST(SidecarConfigBridgeTest, ValidateChecksTheBridgeSettings) {
  SidecarConfig config;
  config.origin_url = "wss://relay";
  EXPECT_THAT(std::string(ValidateSidecarConfig(config).message()), StartsWith("--origin-url: "));
  config = SidecarConfig{};
  config.moq_listen = "nope";
  EXPECT_THAT(std::string(ValidateSidecarConfig(config).message()), StartsWith("--moq-listen: "));
}

TEST(SidecarConfigBridgeTest, MoqSessionBoundsDefaultsAndValues) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.moq_max_sessions, 256u);
  EXPECT_EQ(parsed->config.moq_idle_timeout, absl::Seconds(60));

  parsed = Parse({"--moq-max-sessions=2", "--moq-idle-timeout=300ms"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.moq_max_sessions, 2u);
  EXPECT_EQ(parsed->config.moq_idle_timeout, absl::Milliseconds(300));

  // 0 turns the idle timeout off.
  parsed = Parse({}, {{"MOQ_STATS_MOQ_IDLE_TIMEOUT", "0"}, {"MOQ_STATS_MOQ_MAX_SESSIONS", "9"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.moq_idle_timeout, absl::ZeroDuration());
  EXPECT_EQ(parsed->config.moq_max_sessions, 9u);
  EXPECT_TRUE(UnknownSidecarEnv({"MOQ_STATS_MOQ_IDLE_TIMEOUT", "MOQ_STATS_MOQ_MAX_SESSIONS"}).empty());
}

TEST(SidecarConfigBridgeTest, MoqSessionBoundsRefuseBadValues) {
  EXPECT_THAT(ParseError({"--moq-max-sessions=0"}), StartsWith("--moq-max-sessions: "));
  EXPECT_THAT(ParseError({"--moq-max-sessions=lots"}), StartsWith("--moq-max-sessions: "));
  EXPECT_THAT(ParseError({"--moq-idle-timeout=-1s"}), StartsWith("--moq-idle-timeout: "));
  EXPECT_THAT(ParseError({"--moq-idle-timeout=inf"}), StartsWith("--moq-idle-timeout: "));
  EXPECT_THAT(ParseError({}, {{"MOQ_STATS_MOQ_IDLE_TIMEOUT", "soon"}}), StartsWith("MOQ_STATS_MOQ_IDLE_TIMEOUT: "));

  SidecarConfig config;
  config.moq_max_sessions = 0;
  EXPECT_THAT(std::string(ValidateSidecarConfig(config).message()), StartsWith("--moq-max-sessions: "));
  config = SidecarConfig{};
  config.moq_idle_timeout = absl::Seconds(-2);
  EXPECT_THAT(std::string(ValidateSidecarConfig(config).message()), StartsWith("--moq-idle-timeout: "));
}

TEST(SidecarConfigBridgeTest, UsageListsTheFlags) {
  const std::string usage = SidecarUsage();
  EXPECT_THAT(usage, HasSubstr("--origin-url=URL"));
  EXPECT_THAT(usage, HasSubstr("MOQ_STATS_ORIGIN_URL"));
  EXPECT_THAT(usage, HasSubstr("--moq-listen=HOST:PORT"));
  EXPECT_THAT(usage, HasSubstr("default 127.0.0.1:4450"));
  EXPECT_THAT(usage, HasSubstr("--moq-max-sessions=N"));
  EXPECT_THAT(usage, HasSubstr("--moq-idle-timeout=DURATION"));
  EXPECT_THAT(usage, HasSubstr("MOQ_STATS_MOQ_IDLE_TIMEOUT"));
}

}  // namespace
}  // namespace moq_stats::server
