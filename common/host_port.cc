#include "common/host_port.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats {
namespace {

bool IsDigitsAndDots(std::string_view s) {
  for (char c : s) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

// RFC 1123 labels (letters, digits, '-', not at either end of a label), plus
// '_', which container DNS names often carry.
bool IsHostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(absl::string_view(host.data(), host.size()), '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) return false;
    }
  }
  return true;
}

absl::Status Invalid(std::string_view why) { return absl::InvalidArgumentError(std::string(why)); }

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  HostPort out;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) return Invalid("lacks the \"]\" closing its IPv6 address");
    out.host = std::string(address.substr(1, close - 1));
    out.ipv6 = true;
    std::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Invalid("needs \":PORT\" after its \"]\"");
    port = rest.substr(1);
    std::string bare = out.host.substr(0, out.host.find('%'));
    if (out.host.size() == bare.size() + 1) return Invalid("has an empty IPv6 zone");
    in6_addr addr6;
    if (inet_pton(AF_INET6, bare.c_str(), &addr6) != 1) return Invalid("has no valid IPv6 address in its brackets");
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return Invalid("is neither HOST:PORT nor unix:PATH");
    out.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
    if (out.host.empty()) return Invalid("has no host (use 0.0.0.0 or [::] for every interface)");
    if (out.host.find(':') != std::string::npos) {
      return Invalid("has more than one ':' (an IPv6 address goes in brackets, as \"[::1]:50051\")");
    }
    if (IsDigitsAndDots(out.host)) {
      in_addr addr4;
      if (inet_pton(AF_INET, out.host.c_str(), &addr4) != 1) return Invalid("has a malformed IPv4 address");
    } else if (!IsHostname(out.host)) {
      return Invalid("has a malformed host name");
    }
  }
  if (port.empty()) return Invalid("has no port");
  if (port.size() > 5) return Invalid("has a port out of range (0..65535)");
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Invalid("has a port that is not a whole number");
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) return Invalid("has a port out of range (0..65535)");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

bool IsUnixAddress(std::string_view address) { return address.substr(0, kUnixScheme.size()) == kUnixScheme; }

absl::Status CheckListenAddress(std::string_view address) {
  if (address.empty()) return Invalid("is empty");
  if (!IsUnixAddress(address)) return ParseHostPort(address).status();
  std::string_view path = address.substr(kUnixScheme.size());
  if (path.empty()) return Invalid("has an empty path");
  // The path and its terminating NUL must fit in sockaddr_un.
  constexpr size_t kMaxUnixPath = sizeof(sockaddr_un{}.sun_path) - 1;
  if (path.size() > kMaxUnixPath) {
    return Invalid(absl::StrCat("has a socket path longer than ", kMaxUnixPath, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace moq_stats
