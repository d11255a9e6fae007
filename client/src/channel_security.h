#ifndef MOQ_STATS_CLIENT_SRC_CHANNEL_SECURITY_H_
#define MOQ_STATS_CLIENT_SRC_CHANNEL_SECURITY_H_

// How a client (the relay library, the moq-stats CLI) authenticates to the
// sidecar over TCP: a bearer token sent as `authorization: Bearer TOKEN`
// metadata on every call, and/or TLS with an optional client certificate
// (mutual TLS). A unix socket needs neither.

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace moq_stats::internal {

// Where the credentials are, as the options and flags name them; empty:
// not used.
struct ChannelSecurityFiles {
  std::string token_file;  // the first token in it is sent
  std::string tls_ca;      // CA bundle the sidecar's certificate is checked against; enables TLS
  std::string tls_cert;    // client certificate chain (mutual TLS); needs tls_key
  std::string tls_key;
};

// The credentials read from their files.
struct ChannelSecurity {
  std::string token;  // empty: none sent
  bool tls = false;
  std::string tls_ca_pem;  // empty with tls: the system roots
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

// Reads the files. INVALID_ARGUMENT naming the file (never the token) when
// one cannot be read, the token file holds no token, or only one of
// tls_cert and tls_key is given. A token file holds one token per line;
// blank lines and '#' lines are skipped; the first token is used (the
// sidecar's file may list several during a rotation).
absl::StatusOr<ChannelSecurity> LoadChannelSecurity(const ChannelSecurityFiles& files);

// A channel to `target` with `security`: TLS when asked for (else
// plaintext), and the token on every call.
std::shared_ptr<grpc::Channel> NewSecuredChannel(const std::string& target, const ChannelSecurity& security,
                                                 const grpc::ChannelArguments& args);

}  // namespace moq_stats::internal

#endif  // MOQ_STATS_CLIENT_SRC_CHANNEL_SECURITY_H_
