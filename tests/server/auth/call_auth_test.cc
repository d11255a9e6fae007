#include "server/auth/call_auth.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

constexpr char kToken[] = "token-0123456789abcdef";

CallAuthPolicy TokenPolicy() {
  CallAuthPolicy policy;
  policy.tokens = *AuthTokens::Parse(kToken);
  return policy;
}

CallCredentials Tcp(std::optional<std::string_view> authorization = std::nullopt, bool cert = false) {
  CallCredentials c;
  c.peer = "ipv4:127.0.0.1:41000";
  c.authorization = authorization;
  c.verified_client_certificate = cert;
  return c;
}

grpc::StatusCode Code(const CallAuthPolicy& policy, const CallCredentials& c, RpcAccess access) {
  return AuthorizeCall(policy, c, access).error_code();
}

TEST(CallAuthTest, UnixSocketCallsAreTrustedWithoutCredentials) {
  CallCredentials unix;
  unix.peer = "unix:/run/moq-stats/s.sock";
  EXPECT_EQ(Code(TokenPolicy(), unix, RpcAccess::kWrite), grpc::StatusCode::OK);
  unix.peer = "unix:";
  EXPECT_EQ(Code(TokenPolicy(), unix, RpcAccess::kWrite), grpc::StatusCode::OK);
}

TEST(CallAuthTest, TcpNeedsTheBearerToken) {
  const CallAuthPolicy policy = TokenPolicy();
  EXPECT_EQ(Code(policy, Tcp(), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(policy, Tcp(), RpcAccess::kRead), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(policy, Tcp(std::string("Bearer ") + kToken), RpcAccess::kWrite), grpc::StatusCode::OK);
  EXPECT_EQ(Code(policy, Tcp(std::string("bearer ") + kToken), RpcAccess::kWrite), grpc::StatusCode::OK);
  EXPECT_EQ(Code(policy, Tcp(std::string("Basic ") + kToken), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(policy, Tcp(kToken), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(policy, Tcp("Bearer wrong-token-0123456789"), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(policy, Tcp("Bearer "), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  // IPv6 peers are TCP too.
  CallCredentials v6 = Tcp();
  v6.peer = "ipv6:[::1]:41000";
  EXPECT_EQ(Code(policy, v6, RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(CallAuthTest, TheRefusalNeverEchoesTheTokenPresented) {
  grpc::Status refused = AuthorizeCall(TokenPolicy(), Tcp("Bearer wrong-token-0123456789"), RpcAccess::kWrite);
  EXPECT_EQ(refused.error_message().find("wrong-token"), std::string::npos) << refused.error_message();
}

TEST(CallAuthTest, ReadsPassWithoutCredentialsOnlyWhenAllowed) {
  CallAuthPolicy policy = TokenPolicy();
  policy.allow_unauthenticated_reads = true;
  EXPECT_EQ(Code(policy, Tcp(), RpcAccess::kRead), grpc::StatusCode::OK);
  EXPECT_EQ(Code(policy, Tcp("Bearer wrong-token-0123456789"), RpcAccess::kRead), grpc::StatusCode::OK);
  EXPECT_EQ(Code(policy, Tcp(), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(CallAuthTest, AVerifiedClientCertificateAuthenticatesWhenClientCertificatesAreConfigured) {
  CallAuthPolicy certs;
  certs.client_certificates = true;
  EXPECT_EQ(Code(certs, Tcp(std::nullopt, true), RpcAccess::kWrite), grpc::StatusCode::OK);
  EXPECT_EQ(Code(certs, Tcp(std::nullopt, false), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  // With a token file as well, either one is enough.
  CallAuthPolicy both = TokenPolicy();
  both.client_certificates = true;
  EXPECT_EQ(Code(both, Tcp(std::nullopt, true), RpcAccess::kWrite), grpc::StatusCode::OK);
  EXPECT_EQ(Code(both, Tcp(std::string("Bearer ") + kToken), RpcAccess::kWrite), grpc::StatusCode::OK);
  EXPECT_EQ(Code(both, Tcp(), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
  // Without client certificates configured, a certificate is no credential.
  EXPECT_EQ(Code(TokenPolicy(), Tcp(std::nullopt, true), RpcAccess::kWrite), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(CallAuthTest, WithNothingConfiguredTcpIsOpen) {
  CallAuthPolicy open;
  EXPECT_TRUE(open.open());
  EXPECT_EQ(Code(open, Tcp(), RpcAccess::kWrite), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace moq_stats::server
