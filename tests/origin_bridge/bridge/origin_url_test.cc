#include "origin_bridge/bridge/origin_url.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats::bridge {
namespace {

TEST(OriginUrlTest, WebSocketWithPathAndQuery) {
  absl::StatusOr<DialTarget> t = ParseOriginUrl("ws://relay.example:4443/anon/stats?jwt=abc.def&x=1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->scheme, DialTarget::Scheme::kWebSocket);
  EXPECT_EQ(t->host, "relay.example");
  EXPECT_EQ(t->port, 4443);
  EXPECT_EQ(t->target, "/anon/stats?jwt=abc.def&x=1");
}

TEST(OriginUrlTest, WebSocketDefaultsToPort80AndRootPath) {
  absl::StatusOr<DialTarget> t = ParseOriginUrl("ws://relay");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->target, "/");
  t = ParseOriginUrl("WS://10.0.0.1?jwt=x#frag");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "10.0.0.1");
  EXPECT_EQ(t->target, "/?jwt=x");
}

TEST(OriginUrlTest, Ipv6InBrackets) {
  absl::StatusOr<DialTarget> t = ParseOriginUrl("ws://[::1]:4443/");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 4443);
  t = ParseOriginUrl("tcp://[2001:db8::2]:4444");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->scheme, DialTarget::Scheme::kTcp);
  EXPECT_EQ(t->host, "2001:db8::2");
  EXPECT_EQ(t->port, 4444);
}

TEST(OriginUrlTest, TcpNeedsAPortAndKeepsItsRequestTarget) {
  absl::StatusOr<DialTarget> t = ParseOriginUrl("tcp://relay:4444");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->scheme, DialTarget::Scheme::kTcp);
  EXPECT_EQ(t->port, 4444);
  EXPECT_EQ(t->target, "/");
  EXPECT_FALSE(ParseOriginUrl("tcp://relay").ok());
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444/")->target, "/");
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444/room")->target, "/room");
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444/room?jwt=x")->target, "/room?jwt=x");
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444?jwt=x")->target, "/?jwt=x");
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444/room?")->target, "/room");
  EXPECT_EQ(ParseOriginUrl("tcp://relay:4444/room#frag")->target, "/room");
}

TEST(OriginUrlTest, TlsIsRefusedWithAHint) {
  for (const char* url : {"wss://relay/x", "https://relay/x", "WSS://relay"}) {
    absl::StatusOr<DialTarget> t = ParseOriginUrl(url);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("TLS is not supported"), absl::string_view::npos) << t.status();
    EXPECT_NE(t.status().message().find("tcp://"), absl::string_view::npos) << t.status();
  }
}

TEST(OriginUrlTest, MalformedValuesAreNamed) {
  for (const char* url : {"", "relay:4443", "http://relay/", "quic://relay:1", "ws://", "ws://:80/", "ws://a:b/",
                          "ws://a:70000/", "ws://a:0/", "ws://[::1/", "ws://[nope]:1/", "ws://::1:80/",
                          "ws://user@relay/", "ws://bad host/", "ws://-a.b/", "ws://1.2.3/"}) {
    absl::StatusOr<DialTarget> t = ParseOriginUrl(url);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_NE(t.status().message().find(std::string("\"") + url + "\""), absl::string_view::npos) << t.status();
  }
}

TEST(OriginUrlTest, ErrorsNeverShowTheToken) {
  for (const char* url : {"wss://relay/x?jwt=sekrit", "ws://bad host/?jwt=sekrit", "tcp://r?jwt=sekrit"}) {
    absl::StatusOr<DialTarget> t = ParseOriginUrl(url);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_EQ(t.status().message().find("sekrit"), absl::string_view::npos) << t.status();
    EXPECT_NE(t.status().message().find("jwt=..."), absl::string_view::npos) << t.status();
  }
}

TEST(OriginUrlTest, RedactHidesEveryCredentialLookingParameterInEverySpelling) {
  for (const std::string name :
       {"jwt", "JWT", "Jwt", "token", "TOKEN", "access_token", "Access_Token", "id_token", "api_key", "password",
        "secret",
        // Percent-encoded spellings a server decodes to the same name.
        "%6Awt", "%4A%57%54", "j%77t", "%74oken", "access%5Ftoken", "ACCESS%5fTOKEN", "to%6Ben"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(RedactOriginUrl("ws://r/p?a=1&" + name + "=s3cr3t&b=2"), "ws://r/p?a=1&" + name + "=...&b=2");
    EXPECT_EQ(RedactOriginUrl("ws://r/p?" + name + "=s3cr3t"), "ws://r/p?" + name + "=...");
    EXPECT_EQ(RedactOriginUrl("tcp://r:1/p;" + name + "=s3cr3t#frag"), "tcp://r:1/p;" + name + "=...#frag");
  }
  // Names that only look alike are kept, and so is a malformed escape.
  for (const std::string kept : {"tokens", "notjwt", "jwtx", "keyframe", "%6A", "%zzwt", "jw%"}) {
    SCOPED_TRACE(kept);
    EXPECT_EQ(RedactOriginUrl("ws://r/p?" + kept + "=v"), "ws://r/p?" + kept + "=v");
  }
}

TEST(OriginUrlTest, RedactHidesEveryJwtValue) {
  EXPECT_EQ(RedactOriginUrl("ws://r:1/p?jwt=secret.token"), "ws://r:1/p?jwt=...");
  EXPECT_EQ(RedactOriginUrl("ws://r/p?a=1&JWT=s3cr3t&b=2"), "ws://r/p?a=1&JWT=...&b=2");
  EXPECT_EQ(RedactOriginUrl("ws://r/p?jwt=a&jwt=b#f"), "ws://r/p?jwt=...&jwt=...#f");
  EXPECT_EQ(RedactOriginUrl("ws://r/p?notjwt=keep"), "ws://r/p?notjwt=keep");
  EXPECT_EQ(RedactOriginUrl("ws://r/p?jwt="), "ws://r/p?jwt=");
  EXPECT_EQ(RedactOriginUrl("tcp://r:1"), "tcp://r:1");
  // Also on text that does not parse.
  EXPECT_EQ(RedactOriginUrl("wss://r?jwt=zzz"), "wss://r?jwt=...");
}

TEST(OriginUrlTest, MoqListen) {
  absl::StatusOr<std::optional<ListenAddress>> a = ParseMoqListen("off");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  a = ParseMoqListen("127.0.0.1:4450");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->host, "127.0.0.1");
  EXPECT_EQ((*a)->port, 4450);
  a = ParseMoqListen("[::1]:0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->host, "::1");
  EXPECT_EQ((*a)->port, 0);
  a = ParseMoqListen("localhost:9");
  ASSERT_TRUE(a.ok()) << a.status();
  for (const char* bad : {"", "OFF", "127.0.0.1", "::1:4450", "[::1]", "host:", "host:x", "host:65536"}) {
    absl::StatusOr<std::optional<ListenAddress>> r = ParseMoqListen(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

}  // namespace
}  // namespace moq_stats::bridge
