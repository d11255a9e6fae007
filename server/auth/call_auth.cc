#include "server/auth/call_auth.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace moq_stats::server {
namespace {

constexpr absl::string_view kBearer = "bearer ";

bool IsUnixPeer(absl::string_view peer) {
  return absl::StartsWith(peer, "unix:") || absl::StartsWith(peer, "unix-abstract:");
}

}  // namespace

grpc::Status AuthorizeCall(const CallAuthPolicy& policy, const CallCredentials& credentials, RpcAccess access) {
  if (IsUnixPeer(absl::string_view(credentials.peer)) || policy.open()) return grpc::Status::OK;
  if (policy.client_certificates && credentials.verified_client_certificate) return grpc::Status::OK;
  if (credentials.authorization.has_value() && !policy.tokens.empty()) {
    std::string_view value = *credentials.authorization;
    if (value.size() > kBearer.size() &&
        absl::EqualsIgnoreCase(absl::string_view(value.data(), kBearer.size()), kBearer)) {
      std::string_view token = value.substr(kBearer.size());
      if (policy.tokens.Accepts(token)) return grpc::Status::OK;
      if (access == RpcAccess::kRead && policy.allow_unauthenticated_reads) return grpc::Status::OK;
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the bearer token is not accepted");
    }
  }
  if (access == RpcAccess::kRead && policy.allow_unauthenticated_reads) return grpc::Status::OK;
  std::string needed = policy.tokens.empty()        ? "a client certificate"
                       : policy.client_certificates ? "`authorization: Bearer TOKEN` metadata or a client certificate"
                                                    : "`authorization: Bearer TOKEN` metadata";
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "this listener needs " + needed);
}

CallCredentials CredentialsOf(const grpc::ServerContextBase& context) {
  CallCredentials out;
  out.peer = context.peer();
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    out.authorization = std::string_view(it->second.data(), it->second.size());
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    bool tls = false;
    for (const grpc::string_ref& type : auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
      tls = tls || type == GRPC_SSL_TRANSPORT_SECURITY_TYPE;
    }
    out.verified_client_certificate = tls && !auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME).empty();
  }
  return out;
}

}  // namespace moq_stats::server
