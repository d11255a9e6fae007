#include "server/auth/listener_security.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

std::string Flag(const std::string& name) { return absl::StrCat("--", name); }

TEST(ListenerSecurityTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("stats.example"));
}

TEST(ListenerSecurityTest, AListenerBeyondLoopbackNeedsAuthenticationOrInsecureListen) {
  AuthConfig none;
  EXPECT_TRUE(CheckAuthConfig(none, {"unix:s.sock", "127.0.0.1:50051", "[::1]:50051"}, Flag).ok());
  absl::Status refused = CheckAuthConfig(none, {"unix:s.sock", "0.0.0.0:50051"}, Flag);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("0.0.0.0:50051"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("--insecure-listen"), std::string::npos) << refused;
  AuthConfig insecure;
  insecure.insecure_listen = true;
  EXPECT_TRUE(CheckAuthConfig(insecure, {"0.0.0.0:50051"}, Flag).ok());
  AuthConfig tokens;
  tokens.token_file = "/etc/moq-stats/tokens";
  EXPECT_TRUE(CheckAuthConfig(tokens, {"0.0.0.0:50051"}, Flag).ok());
}

TEST(ListenerSecurityTest, TlsFilesGoTogether) {
  AuthConfig cert_only;
  cert_only.tls_cert = "c.pem";
  EXPECT_EQ(CheckAuthConfig(cert_only, {}, Flag).code(), absl::StatusCode::kInvalidArgument);
  AuthConfig key_only;
  key_only.tls_key = "k.pem";
  EXPECT_EQ(CheckAuthConfig(key_only, {}, Flag).code(), absl::StatusCode::kInvalidArgument);
  AuthConfig ca_only;
  ca_only.tls_client_ca = "ca.pem";
  EXPECT_EQ(CheckAuthConfig(ca_only, {}, Flag).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ListenerSecurityTest, DescribesWhatEachListenerAccepts) {
  AuthConfig config;
  config.token_file = "/etc/tokens";
  config.allow_unauthenticated_reads = true;
  auto described = DescribeListenerAccess(config, {"unix:/run/s.sock", "0.0.0.0:50051"}, "0660");
  ASSERT_EQ(described.size(), 2u);
  EXPECT_EQ(described[0].first, "unix:/run/s.sock");
  EXPECT_NE(described[0].second.find("trusted"), std::string::npos);
  EXPECT_NE(described[0].second.find("0660"), std::string::npos);
  EXPECT_EQ(described[1].second, "bearer token; reads open to anyone; reachable beyond this machine");
}

TEST(ListenerSecurityTest, LoadingNamesTheFlagOfAMissingFile) {
  AuthConfig config;
  config.token_file = "/nonexistent/tokens";
  absl::StatusOr<ListenerSecurity> loaded = LoadListenerSecurity(config);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("--auth-token-file"), std::string::npos) << loaded.status();
  AuthConfig tls;
  tls.tls_cert = "/nonexistent/cert.pem";
  tls.tls_key = "/nonexistent/key.pem";
  loaded = LoadListenerSecurity(tls);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("--tls-cert"), std::string::npos) << loaded.status();
}

}  // namespace
}  // namespace moq_stats::server
