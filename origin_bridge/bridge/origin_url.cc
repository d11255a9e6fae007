#include "origin_bridge/bridge/origin_url.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats::bridge {
namespace {

absl::Status Invalid(std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", absl::CHexEscape(absl::string_view(value.data(), value.size())),
                                                 "\" ", absl::string_view(why.data(), why.size())));
}

// RFC 1123 labels, plus '_' (container DNS names carry it).
bool IsHostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(absl::string_view(host.data(), host.size()), '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
  }
  return true;
}

bool IsDigitsAndDots(std::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

// A host and an optional port, as in a URL authority or a listen address.
struct Authority {
  std::string host;
  std::optional<uint16_t> port;
};

// Parses "host", "host:port", "[v6]" or "[v6]:port". `value` names the
// whole input in errors.
absl::StatusOr<Authority> ParseAuthority(std::string_view text, std::string_view value) {
  Authority out;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Invalid(value, "lacks the \"]\" closing its IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid(value, "needs \":PORT\" after its \"]\"");
      port = rest.substr(1);
      has_port = true;
    }
    in6_addr addr6;
    if (inet_pton(AF_INET6, out.host.c_str(), &addr6) != 1) {
      return Invalid(value, "has no valid IPv6 address in its brackets");
    }
  } else {
    size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      has_port = true;
      if (port.find(':') != std::string_view::npos) {
        return Invalid(value, "has more than one ':' (an IPv6 address goes in brackets, as \"[::1]:4450\")");
      }
    }
    if (out.host.empty()) return Invalid(value, "has no host");
    if (IsDigitsAndDots(out.host)) {
      in_addr addr4;
      if (inet_pton(AF_INET, out.host.c_str(), &addr4) != 1) return Invalid(value, "has a malformed IPv4 address");
    } else if (!IsHostname(out.host)) {
      return Invalid(value, "has a malformed host name");
    }
  }
  if (has_port) {
    if (port.empty()) return Invalid(value, "has an empty port");
    if (port.size() > 5) return Invalid(value, "has a port out of range (0..65535)");
    uint32_t number = 0;
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return Invalid(value, "has a port that is not a whole number");
      }
      number = number * 10 + static_cast<uint32_t>(c - '0');
    }
    if (number > 65535) return Invalid(value, "has a port out of range (0..65535)");
    out.port = static_cast<uint16_t>(number);
  }
  return out;
}

}  // namespace

absl::StatusOr<DialTarget> ParseOriginUrl(std::string_view url) {
  // Errors quote the URL without its token.
  const std::string shown = RedactOriginUrl(url);
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Invalid(shown, "is not a URL: use ws://HOST[:PORT]/PATH or tcp://HOST:PORT");
  }
  std::string scheme = absl::AsciiStrToLower(absl::string_view(url.data(), sep));
  if (scheme == "wss" || scheme == "https") {
    return Invalid(shown, "asks for TLS: TLS is not supported; use ws:// behind a local TLS terminator or tcp://");
  }
  DialTarget target;
  if (scheme == "ws") {
    target.scheme = DialTarget::Scheme::kWebSocket;
  } else if (scheme == "tcp") {
    target.scheme = DialTarget::Scheme::kTcp;
  } else {
    return Invalid(shown, "has an unsupported scheme: use ws://HOST[:PORT]/PATH or tcp://HOST:PORT");
  }
  std::string_view rest = url.substr(sep + 3);
  // The fragment is never sent.
  rest = rest.substr(0, rest.find('#'));
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(shown, "carries user information; pass a token in the query (?jwt=...) instead");
  }
  if (authority.empty()) return Invalid(shown, "has no host");
  absl::StatusOr<Authority> parsed = ParseAuthority(authority, shown);
  if (!parsed.ok()) return parsed.status();
  target.host = parsed->host;
  if (target.scheme == DialTarget::Scheme::kTcp) {
    if (!parsed->port.has_value()) return Invalid(shown, "has no port (tcp://HOST:PORT)");
  }
  // The request target. Over TCP it travels in the lite-05 SETUP (Path).
  target.target = tail.empty() ? "/" : (tail.front() == '?' ? absl::StrCat("/", std::string(tail)) : std::string(tail));
  // An empty query is no query.
  if (target.target.size() > 1 && target.target.back() == '?') target.target.pop_back();
  target.port = parsed->port.value_or(80);
  if (target.port == 0) return Invalid(shown, "has port 0");
  return target;
}

std::string RedactOriginUrl(std::string_view url) {
  std::string out;
  size_t i = 0;
  while (i < url.size()) {
    char c = url[i];
    out.push_back(c);
    ++i;
    if (c != '?' && c != '&' && c != ';') continue;
    if (url.size() - i >= 4 && absl::EqualsIgnoreCase(absl::string_view(url.data() + i, 4), "jwt=")) {
      out.append(url.substr(i, 4));
      i += 4;
      size_t end = url.find_first_of("&;#", i);
      if (end == std::string_view::npos) end = url.size();
      if (end > i) out.append("...");
      i = end;
    }
  }
  return out;
}

std::string FormatHostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::optional<ListenAddress>> ParseMoqListen(std::string_view value) {
  if (value == "off") return std::optional<ListenAddress>();
  if (value.empty()) return Invalid(value, "is empty; give HOST:PORT or off");
  absl::StatusOr<Authority> parsed = ParseAuthority(value, value);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->port.has_value()) return Invalid(value, "has no port; give HOST:PORT or off");
  return std::optional<ListenAddress>(ListenAddress{parsed->host, *parsed->port});
}

}  // namespace moq_stats::bridge
