#ifndef MOQ_STATS_SERVER_AUTH_CALL_AUTH_H_
#define MOQ_STATS_SERVER_AUTH_CALL_AUTH_H_

#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "server/auth/auth_tokens.h"

namespace moq_stats::server {

// What an RPC does: reads (ListLevels, GetLevel, Watch, GetInfo) or writes
// (Session).
enum class RpcAccess { kRead, kWrite };

// Who may call the StatsService on the gRPC listeners. A call that arrived
// on a unix socket is trusted: the socket file's mode and group decide who
// can connect. A call over TCP needs one of
//   - a bearer token from --auth-token-file in `authorization: Bearer TOKEN`
//     metadata, or
//   - a client certificate verified against --tls-client-ca,
// unless neither is configured (the listeners are then open, which the
// configuration allows only on loopback or with --insecure-listen), or the
// call only reads and --allow-unauthenticated-reads is set.
struct CallAuthPolicy {
  AuthTokens tokens;
  bool client_certificates = false;  // --tls-client-ca is set
  bool allow_unauthenticated_reads = false;

  // Neither tokens nor client certificates: TCP accepts every call.
  bool open() const { return tokens.empty() && !client_certificates; }
};

// What a call presented, as AuthorizeCall reads it.
struct CallCredentials {
  std::string peer;                               // "unix:...", "ipv4:...", "ipv6:..."
  std::optional<std::string_view> authorization;  // the authorization metadata value
  bool verified_client_certificate = false;       // TLS with a client certificate the CA verified
};

// OK, or UNAUTHENTICATED saying what is missing (never echoing a token).
grpc::Status AuthorizeCall(const CallAuthPolicy& policy, const CallCredentials& credentials, RpcAccess access);

// The credentials of the call `context` serves; `authorization` views into
// `context`, valid while the call is.
CallCredentials CredentialsOf(const grpc::ServerContextBase& context);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_AUTH_CALL_AUTH_H_
