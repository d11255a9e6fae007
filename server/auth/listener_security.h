#ifndef MOQ_STATS_SERVER_AUTH_LISTENER_SECURITY_H_
#define MOQ_STATS_SERVER_AUTH_LISTENER_SECURITY_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/auth/call_auth.h"

namespace moq_stats::server {

// What the gRPC listeners accept, as the flags say it.
struct AuthConfig {
  // --auth-token-file: the bearer tokens TCP callers may present; empty: none.
  std::string token_file;
  // --tls-cert, --tls-key: the server's certificate chain and key (PEM) for
  // TLS on every TCP listener; both empty: plaintext.
  std::string tls_cert;
  std::string tls_key;
  // --tls-client-ca: CA bundle (PEM) client certificates are verified
  // against; a verified client is authenticated. Needs --tls-cert.
  std::string tls_client_ca;
  // --allow-unauthenticated-reads: ListLevels, GetLevel, Watch and GetInfo
  // need no credentials over TCP.
  bool allow_unauthenticated_reads = false;
  // --insecure-listen: a listener beyond loopback may accept anyone.
  bool insecure_listen = false;

  bool tls() const { return !tls_cert.empty(); }
  // Whether TCP callers must authenticate (a token or a client certificate).
  bool authenticates() const { return !token_file.empty() || !tls_client_ca.empty(); }
};

// The flags' cross-checks, without touching a file: the TLS files go
// together, and a TCP listener beyond loopback needs authentication or
// --insecure-listen. `listen` holds the --listen addresses; `name` names a
// flag in the message ("--tls-key" or its variable).
absl::Status CheckAuthConfig(const AuthConfig& config, const std::vector<std::string>& listen,
                             const std::function<std::string(const std::string&)>& name);

// Whether `host` (of a HOST:PORT listen address) only reaches this machine:
// "localhost", 127.0.0.0/8, ::1.
bool IsLoopbackHost(const std::string& host);

// What each --listen address accepts, for --check-config: ("unix:/run/s",
// "trusted (file mode 0660)"), ("0.0.0.0:50051", "tls; bearer token or client
// certificate; reads open"), ...
std::vector<std::pair<std::string, std::string>> DescribeListenerAccess(const AuthConfig& config,
                                                                        const std::vector<std::string>& listen,
                                                                        const std::string& unix_mode);

// The loaded form of an AuthConfig: the tokens read, the TLS files read into
// server credentials, and the policy each call is checked against.
struct ListenerSecurity {
  CallAuthPolicy policy;
  // For every TCP listener: TLS (requiring and verifying a client
  // certificate when --tls-client-ca is set and no token file is; verifying
  // one when presented when both are) or plaintext.
  std::shared_ptr<grpc::ServerCredentials> tcp_credentials;
};

// Reads the token file and the TLS files. INVALID_ARGUMENT naming the flag
// and the file (never a token) when one cannot be read or is malformed.
absl::StatusOr<ListenerSecurity> LoadListenerSecurity(const AuthConfig& config);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_AUTH_LISTENER_SECURITY_H_
