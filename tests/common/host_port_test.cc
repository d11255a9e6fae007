#include "common/host_port.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

using ::testing::HasSubstr;

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
