#include "common/host_port.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

using ::testing::HasSubstr;

HostPortSyntax PortRequired(bool zone_allowed) {
  HostPortSyntax syntax;
  syntax.port_required = true;
  syntax.zone_allowed = zone_allowed;
  return syntax;
}

HostPortSyntax PortOptional() {
  HostPortSyntax syntax;
  syntax.port_required = false;
  syntax.zone_allowed = false;
  return syntax;
}

// Names each error, so that a test sees which one the parser found.
std::string_view ErrorName(HostPortError error) {
  switch (error) {
    case HostPortError::kUnclosedBracket:
      return "UnclosedBracket";
    case HostPortError::kNoColonAfterBracket:
      return "NoColonAfterBracket";
    case HostPortError::kEmptyZone:
      return "EmptyZone";
    case HostPortError::kBadIpv6:
      return "BadIpv6";
    case HostPortError::kNoPort:
      return "NoPort";
    case HostPortError::kNoHost:
      return "NoHost";
    case HostPortError::kManyColons:
      return "ManyColons";
    case HostPortError::kBadIpv4:
      return "BadIpv4";
    case HostPortError::kBadHostName:
      return "BadHostName";
    case HostPortError::kEmptyPort:
      return "EmptyPort";
    case HostPortError::kPortNotNumber:
      return "PortNotNumber";
    case HostPortError::kPortOutOfRange:
      return "PortOutOfRange";
  }
  return "?";
}

// The error `text` gets, by name; "ok" when it parses.
std::string ErrorOf(std::string_view text, HostPortSyntax syntax) {
  absl::StatusOr<HostAndPort> parsed = ParseHostAndPort(text, syntax, ErrorName);
  if (parsed.ok()) return "ok";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(HostAndPortTest, ReadsHostPortAndBrackets) {
  absl::StatusOr<HostAndPort> v4 = ParseHostAndPort("10.0.0.1:4450", PortRequired(false));
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "10.0.0.1");
  EXPECT_EQ(v4->port, std::optional<uint16_t>(4450));
  EXPECT_FALSE(v4->bracketed);

  absl::StatusOr<HostAndPort> v6 = ParseHostAndPort("[2001:db8::2]:65535", PortRequired(false));
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "2001:db8::2");
  EXPECT_EQ(v6->port, std::optional<uint16_t>(65535));
  EXPECT_TRUE(v6->bracketed);

  absl::StatusOr<HostAndPort> name = ParseHostAndPort("relay-1.stats_svc.local:0", PortRequired(false));
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "relay-1.stats_svc.local");
  EXPECT_EQ(name->port, std::optional<uint16_t>(0));
}

TEST(HostAndPortTest, PortMayBeLeftOutWhenNotRequired) {
  absl::StatusOr<HostAndPort> name = ParseHostAndPort("relay", PortOptional());
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "relay");
  EXPECT_EQ(name->port, std::nullopt);

  absl::StatusOr<HostAndPort> v6 = ParseHostAndPort("[::1]", PortOptional());
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, std::nullopt);
  EXPECT_TRUE(v6->bracketed);

  EXPECT_EQ(ErrorOf("relay", PortRequired(false)), "NoPort");
  EXPECT_EQ(ErrorOf("[::1]", PortRequired(false)), "NoColonAfterBracket");
  // A ':' with nothing after it is an empty port either way.
  EXPECT_EQ(ErrorOf("relay:", PortOptional()), "EmptyPort");
  EXPECT_EQ(ErrorOf("[::1]:", PortOptional()), "EmptyPort");
}

TEST(HostAndPortTest, ZoneOnlyWhenAllowed) {
  absl::StatusOr<HostAndPort> zoned = ParseHostAndPort("[fe80::1%eth0]:9090", PortRequired(true));
  ASSERT_TRUE(zoned.ok()) << zoned.status();
  EXPECT_EQ(zoned->host, "fe80::1%eth0");
  EXPECT_EQ(ErrorOf("[fe80::1%]:9090", PortRequired(true)), "EmptyZone");
  EXPECT_EQ(ErrorOf("[fe80::1%eth0]:9090", PortRequired(false)), "BadIpv6");
  EXPECT_EQ(ErrorOf("[fe80::1%]:9090", PortRequired(false)), "BadIpv6");
}

TEST(HostAndPortTest, SaysWhichRuleIsBroken) {
  const std::pair<std::string, std::string> cases[] = {
      {"[::1", "UnclosedBracket"},
      {"[::1]80", "NoColonAfterBracket"},
      {"[nope]:80", "BadIpv6"},
      {"[]:80", "BadIpv6"},
      {":80", "NoHost"},
      {":", "NoHost"},
      {"a:b:c", "ManyColons"},
      {"::1:80", "ManyColons"},
      {":1:2", "ManyColons"},
      {"300.1.1.1:80", "BadIpv4"},
      {"1.2.3:80", "BadIpv4"},
      {"-bad-:80", "BadHostName"},
      {"a..b:80", "BadHostName"},
      {"ho st:80", "BadHostName"},
      {"host:8o", "PortNotNumber"},
      {"host:+80", "PortNotNumber"},
      {"host:-1", "PortNotNumber"},
      {"host:65536", "PortOutOfRange"},
      {"host:99999", "PortOutOfRange"},
      {"host:000080", "PortOutOfRange"},
  };
  for (const auto& [text, error] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ErrorOf(text, PortRequired(true)), error);
    EXPECT_EQ(ErrorOf(text, PortOptional()), error);
  }
  // The port is checked only once the host is known good.
  EXPECT_EQ(ErrorOf("-bad-:x", PortOptional()), "BadHostName");
  // Without a required port, a bad host is reported as such.
  EXPECT_EQ(ErrorOf("-bad-", PortOptional()), "BadHostName");
  EXPECT_EQ(ErrorOf("-bad-", PortRequired(false)), "NoPort");
}

TEST(HostAndPortTest, UsualWordsFollowTheAddress) {
  HostPortSyntax syntax = PortOptional();
  EXPECT_EQ(ParseHostAndPort("host:", syntax).status().message(), "has an empty port");
  EXPECT_EQ(ParseHostAndPort(":80", syntax).status().message(), "has no host");
  EXPECT_EQ(ParseHostAndPort("host:8o", syntax).status().message(), "has a port that is not a whole number");
  EXPECT_EQ(HostPortErrorText(HostPortError::kPortOutOfRange), "has a port out of range (0..65535)");
}

TEST(FormatHostPortTest, BracketsIpv6) {
  EXPECT_EQ(FormatHostPort("127.0.0.1", 4450), "127.0.0.1:4450");
  EXPECT_EQ(FormatHostPort("::1", 4450), "[::1]:4450");
}

TEST(ListenAddressTest, ParsesIpv4HostnamesAndBracketedIpv6) {
  auto v4 = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 50051);
  EXPECT_FALSE(v4->ipv6);

  auto v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->ipv6);

  EXPECT_TRUE(ParseHostPort("[fe80::1%eth0]:9090").ok());
  EXPECT_TRUE(ParseHostPort("relay-1.stats_svc.local:65535").ok());
}

TEST(ListenAddressTest, SaysWhatIsWrong) {
  auto why = [](const std::string& address) { return std::string(ParseHostPort(address).status().message()); };
  EXPECT_THAT(why("localhost"), HasSubstr("neither HOST:PORT"));
  EXPECT_THAT(why(":80"), HasSubstr("no host"));
  EXPECT_THAT(why("host:"), HasSubstr("no port"));
  EXPECT_THAT(why("host:65536"), HasSubstr("out of range"));
  EXPECT_THAT(why("host:000080"), HasSubstr("out of range"));
  EXPECT_THAT(why("host:8o"), HasSubstr("not a whole number"));
  EXPECT_THAT(why("a:b:c"), HasSubstr("more than one ':'"));
  EXPECT_THAT(why("[::1"), HasSubstr("\"]\""));
  EXPECT_THAT(why("[::1]80"), HasSubstr(":PORT"));
  EXPECT_THAT(why("[nope]:80"), HasSubstr("IPv6"));
  EXPECT_THAT(why("[::1%]:80"), HasSubstr("zone"));
  EXPECT_THAT(why("300.1.1.1:80"), HasSubstr("IPv4"));
  EXPECT_THAT(why("-bad-:80"), HasSubstr("host name"));
}

TEST(ListenAddressTest, UnixAddresses) {
  EXPECT_TRUE(IsUnixAddress("unix:/run/s.sock"));
  EXPECT_FALSE(IsUnixAddress("127.0.0.1:1"));
  EXPECT_TRUE(CheckListenAddress("unix:relative.sock").ok());
  EXPECT_THAT(std::string(CheckListenAddress("unix:").message()), HasSubstr("empty path"));
  EXPECT_THAT(std::string(CheckListenAddress("unix:/" + std::string(200, 'x')).message()), HasSubstr("longer"));
  EXPECT_THAT(std::string(CheckListenAddress("").message()), HasSubstr("empty"));
  EXPECT_TRUE(CheckListenAddress("0.0.0.0:50051").ok());
}

}  // namespace
}  // namespace moq_stats
