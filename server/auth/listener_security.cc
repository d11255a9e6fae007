#include "server/auth/listener_security.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/host_port.h"

namespace moq_stats::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path, ": ", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " holds no PEM block"));
  }
  return text.str();
}

bool IsUnix(const std::string& address) { return absl::StartsWith(address, "unix:"); }

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

absl::Status CheckAuthConfig(const AuthConfig& config, const std::vector<std::string>& listen,
                             const std::function<std::string(const std::string&)>& name) {
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name(config.tls_cert.empty() ? "tls-cert" : "tls-key"),
                                                   ": is needed with ",
                                                   name(config.tls_cert.empty() ? "tls-key" : "tls-cert")));
  }
  if (!config.tls_client_ca.empty() && !config.tls()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name("tls-client-ca"), ": needs ", name("tls-cert"), " and ", name("tls-key")));
  }
  if (config.authenticates() || config.insecure_listen) return absl::OkStatus();
  for (const std::string& address : listen) {
    if (IsUnix(address)) continue;
    absl::StatusOr<HostPort> host_port = ParseHostPort(address);
    if (!host_port.ok() || IsLoopbackHost(host_port->host)) continue;  // malformed ones are reported elsewhere
    return absl::InvalidArgumentError(absl::StrCat(
        name("listen"), ": \"", address,
        "\" is reachable beyond this machine and nothing authenticates its callers; set ", name("auth-token-file"),
        " or ", name("tls-client-ca"), ", or ", name("insecure-listen"), " to accept anyone who can connect"));
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::string>> DescribeListenerAccess(const AuthConfig& config,
                                                                        const std::vector<std::string>& listen,
                                                                        const std::string& unix_mode) {
  std::string tcp;
  if (config.tls()) tcp = "tls; ";
  if (!config.authenticates()) {
    absl::StrAppend(&tcp, "anyone (no authentication)");
  } else {
    std::string who = !config.token_file.empty() && !config.tls_client_ca.empty() ? "bearer token or client certificate"
                      : !config.token_file.empty()                                ? "bearer token"
                                                                                  : "client certificate";
    absl::StrAppend(&tcp, who, config.allow_unauthenticated_reads ? "; reads open to anyone" : "; reads need it too");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& address : listen) {
    if (IsUnix(address)) {
      out.emplace_back(address, absl::StrCat("trusted (whoever the socket's mode ", unix_mode, " lets connect)"));
    } else {
      absl::StatusOr<HostPort> host_port = ParseHostPort(address);
      bool loopback = host_port.ok() && IsLoopbackHost(host_port->host);
      out.emplace_back(address, absl::StrCat(tcp, loopback ? "" : "; reachable beyond this machine"));
    }
  }
  return out;
}

absl::StatusOr<ListenerSecurity> LoadListenerSecurity(const AuthConfig& config) {
  ListenerSecurity out;
  if (!config.token_file.empty()) {
    absl::StatusOr<AuthTokens> tokens = AuthTokens::ReadFile(config.token_file);
    if (!tokens.ok()) return absl::InvalidArgumentError(absl::StrCat("--auth-token-file: ", tokens.status().message()));
    out.policy.tokens = *std::move(tokens);
  }
  out.policy.client_certificates = !config.tls_client_ca.empty();
  out.policy.allow_unauthenticated_reads = config.allow_unauthenticated_reads;
  if (!config.tls()) {
    out.tcp_credentials = grpc::InsecureServerCredentials();
    return out;
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> cert = ReadPem("--tls-cert", config.tls_cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", config.tls_key);
  if (!key.ok()) return key.status();
  pair.cert_chain = *cert;
  pair.private_key = *key;
  options.pem_key_cert_pairs.push_back(pair);
  if (config.tls_client_ca.empty()) {
    options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  } else {
    absl::StatusOr<std::string> ca = ReadPem("--tls-client-ca", config.tls_client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    // With tokens as well, a client without a certificate may still present
    // a token; one that presents a certificate must have it verified.
    options.client_certificate_request = config.token_file.empty()
                                             ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                             : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  out.tcp_credentials = grpc::SslServerCredentials(options);
  return out;
}

}  // namespace moq_stats::server
