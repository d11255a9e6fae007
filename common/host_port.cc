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

// The daemon's words for a listen address.
std::string_view ListenAddressPhrasing(HostPortError error) {
  switch (error) {
    case HostPortError::kNoPort:
      return "is neither HOST:PORT nor unix:PATH";
    case HostPortError::kNoHost:
      return "has no host (use 0.0.0.0 or [::] for every interface)";
    case HostPortError::kManyColons:
      return "has more than one ':' (an IPv6 address goes in brackets, as \"[::1]:50051\")";
    case HostPortError::kEmptyPort:
      return "has no port";
    default:
      return HostPortErrorText(error);
  }
}

}  // namespace

std::string_view HostPortErrorText(HostPortError error) {
  switch (error) {
    case HostPortError::kUnclosedBracket:
      return "lacks the \"]\" closing its IPv6 address";
    case HostPortError::kNoColonAfterBracket:
      return "needs \":PORT\" after its \"]\"";
    case HostPortError::kEmptyZone:
      return "has an empty IPv6 zone";
    case HostPortError::kBadIpv6:
      return "has no valid IPv6 address in its brackets";
    case HostPortError::kNoPort:
      return "has no port";
    case HostPortError::kNoHost:
      return "has no host";
    case HostPortError::kManyColons:
      return "has more than one ':' (an IPv6 address goes in brackets)";
    case HostPortError::kBadIpv4:
      return "has a malformed IPv4 address";
    case HostPortError::kBadHostName:
      return "has a malformed host name";
    case HostPortError::kEmptyPort:
      return "has an empty port";
    case HostPortError::kPortNotNumber:
      return "has a port that is not a whole number";
    case HostPortError::kPortOutOfRange:
      return "has a port out of range (0..65535)";
  }
  return "is malformed";
}

absl::StatusOr<HostAndPort> ParseHostAndPort(std::string_view text, HostPortSyntax syntax, HostPortPhrasing phrasing) {
  auto fail = [phrasing](HostPortError error) { return Invalid(phrasing(error)); };
  HostAndPort out;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(HostPortError::kUnclosedBracket);
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(HostPortError::kNoColonAfterBracket);
      port = rest.substr(1);
    } else if (syntax.port_required) {
      return fail(HostPortError::kNoColonAfterBracket);
    }
    std::string address = out.host;
    if (syntax.zone_allowed) {
      address = out.host.substr(0, out.host.find('%'));
      if (out.host.size() == address.size() + 1) return fail(HostPortError::kEmptyZone);
    }
    in6_addr addr6;
    if (inet_pton(AF_INET6, address.c_str(), &addr6) != 1) return fail(HostPortError::kBadIpv6);
  } else {
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      if (syntax.port_required) return fail(HostPortError::kNoPort);
    } else {
      port = text.substr(colon + 1);
      if (port->find(':') != std::string_view::npos) return fail(HostPortError::kManyColons);
    }
    out.host = std::string(text.substr(0, colon));
    if (out.host.empty()) return fail(HostPortError::kNoHost);
    if (IsDigitsAndDots(out.host)) {
      in_addr addr4;
      if (inet_pton(AF_INET, out.host.c_str(), &addr4) != 1) return fail(HostPortError::kBadIpv4);
    } else if (!IsHostname(out.host)) {
      return fail(HostPortError::kBadHostName);
    }
  }
  if (port.has_value()) {
    if (port->empty()) return fail(HostPortError::kEmptyPort);
    if (port->size() > 5) return fail(HostPortError::kPortOutOfRange);
    uint32_t value = 0;
    for (char c : *port) {
      if (c < '0' || c > '9') return fail(HostPortError::kPortNotNumber);
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value > 65535) return fail(HostPortError::kPortOutOfRange);
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

std::string FormatHostPort(std::string_view host, uint16_t port) {
  absl::string_view h(host.data(), host.size());
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", h, "]:", port);
  return absl::StrCat(h, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  HostPortSyntax syntax;
  syntax.port_required = true;
  syntax.zone_allowed = true;
  absl::StatusOr<HostAndPort> parsed = ParseHostAndPort(address, syntax, ListenAddressPhrasing);
  if (!parsed.ok()) return parsed.status();
  return HostPort{std::move(parsed->host), *parsed->port, parsed->bracketed};
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
