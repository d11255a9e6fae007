#include "client/src/channel_security.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include <grpcpp/support/client_interceptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats::internal {
namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, ": cannot read ", path, ": ", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds the authorization metadata to every call of the channel.
class BearerTokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(const std::string* header) : header_(header) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *header_);
    }
    methods->Proceed();
  }

 private:
  const std::string* const header_;  // owned by the factory, which the channel keeps
};

class BearerTokenInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenInterceptorFactory(const std::string& token) : header_("Bearer " + token) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new BearerTokenInterceptor(&header_);
  }

 private:
  const std::string header_;
};

}  // namespace

absl::StatusOr<ChannelSecurity> LoadChannelSecurity(const ChannelSecurityFiles& files) {
  ChannelSecurity out;
  if (!files.token_file.empty()) {
    absl::StatusOr<std::string> text = ReadWhole("token file", files.token_file);
    if (!text.ok()) return text.status();
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      absl::string_view token = absl::StripAsciiWhitespace(line);
      if (token.empty() || token.front() == '#') continue;
      out.token = std::string(token);
      break;
    }
    if (out.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("token file ", files.token_file, " holds no token"));
    }
  }
  if (files.tls_cert.empty() != files.tls_key.empty()) {
    return absl::InvalidArgumentError("a TLS client certificate and its key go together");
  }
  out.tls = !files.tls_ca.empty() || !files.tls_cert.empty();
  if (!files.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadWhole("TLS CA", files.tls_ca);
    if (!ca.ok()) return ca.status();
    out.tls_ca_pem = *std::move(ca);
  }
  if (!files.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadWhole("TLS certificate", files.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadWhole("TLS key", files.tls_key);
    if (!key.ok()) return key.status();
    out.tls_cert_pem = *std::move(cert);
    out.tls_key_pem = *std::move(key);
  }
  return out;
}

std::shared_ptr<grpc::Channel> NewSecuredChannel(const std::string& target, const ChannelSecurity& security,
                                                 const grpc::ChannelArguments& args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (security.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = security.tls_ca_pem;
    options.pem_cert_chain = security.tls_cert_pem;
    options.pem_private_key = security.tls_key_pem;
    credentials = grpc::SslCredentials(options);
  }
  if (security.token.empty()) return grpc::CreateCustomChannel(target, credentials, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<BearerTokenInterceptorFactory>(security.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials, args, std::move(interceptors));
}

}  // namespace moq_stats::internal
