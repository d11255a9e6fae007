#include "origin_bridge/bridge/origin_url.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/host_port.h"

namespace moq_stats::bridge {
namespace {

absl::Status Invalid(std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", absl::CHexEscape(absl::string_view(value.data(), value.size())),
                                                 "\" ", absl::string_view(why.data(), why.size())));
}

// The bridge's words for a host[:port]: the usual ones, with an example
// of a bracketed IPv6 address on the MoQ port.
std::string_view AuthorityPhrasing(HostPortError error) {
  if (error == HostPortError::kManyColons) {
    return "has more than one ':' (an IPv6 address goes in brackets, as \"[::1]:4450\")";
  }
  return HostPortErrorText(error);
}

// Parses "host", "host:port", "[v6]" or "[v6]:port". `value` names the
// whole input in errors.
absl::StatusOr<HostAndPort> ParseAuthority(std::string_view text, std::string_view value) {
  HostPortSyntax syntax;
  syntax.port_required = false;
  syntax.zone_allowed = false;
  absl::StatusOr<HostAndPort> parsed = ParseHostAndPort(text, syntax, AuthorityPhrasing);
  if (!parsed.ok()) {
    absl::string_view why = parsed.status().message();
    return Invalid(value, std::string_view(why.data(), why.size()));
  }
  return parsed;
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
  absl::StatusOr<HostAndPort> parsed = ParseAuthority(authority, shown);
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

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A query parameter name as a server reads it: percent-decoded ('+' is a
// space), lower-cased.
std::string DecodedName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size() && HexValue(name[i + 1]) >= 0 && HexValue(name[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(name[i + 1]) * 16 + HexValue(name[i + 2])));
      i += 2;
    } else {
      out.push_back(name[i] == '+' ? ' ' : name[i]);
    }
  }
  return absl::AsciiStrToLower(out);
}

// Whether a parameter called `name` (decoded) looks like it carries a
// credential.
bool IsCredentialName(const std::string& name) {
  static constexpr std::string_view kNames[] = {
      "jwt",           "token", "access_token",    "id_token",         "refresh_token",
      "auth_token",    "auth",  "authorization",   "apikey",           "api_key",
      "api-key",       "key",   "secret",          "password",         "passwd",
      "signature",     "sig",   "x-amz-signature", "x-goog-signature", "credential",
      "session_token", "bearer"};
  for (std::string_view known : kNames) {
    if (name == known) return true;
  }
  return absl::EndsWith(name, "_token") || absl::EndsWith(name, "-token");
}

}  // namespace

std::string RedactOriginUrl(std::string_view url) {
  std::string out;
  size_t i = 0;
  while (i < url.size()) {
    const char c = url[i];
    out.push_back(c);
    ++i;
    if (c != '?' && c != '&' && c != ';') continue;
    // A parameter starts here: NAME=VALUE up to the next separator.
    const size_t end = std::min(url.find_first_of("&;#", i), url.size());
    const std::string_view parameter = url.substr(i, end - i);
    const size_t eq = parameter.find('=');
    if (eq == std::string_view::npos || !IsCredentialName(DecodedName(parameter.substr(0, eq)))) continue;
    out.append(parameter.substr(0, eq + 1));
    if (eq + 1 < parameter.size()) out.append("...");
    i = end;
  }
  return out;
}

absl::StatusOr<std::optional<ListenAddress>> ParseMoqListen(std::string_view value) {
  if (value == "off") return std::optional<ListenAddress>();
  if (value.empty()) return Invalid(value, "is empty; give HOST:PORT or off");
  absl::StatusOr<HostAndPort> parsed = ParseAuthority(value, value);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->port.has_value()) return Invalid(value, "has no port; give HOST:PORT or off");
  return std::optional<ListenAddress>(ListenAddress{parsed->host, *parsed->port});
}

}  // namespace moq_stats::bridge
