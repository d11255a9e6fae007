#ifndef MOQ_STATS_COMMON_HOST_PORT_H_
#define MOQ_STATS_COMMON_HOST_PORT_H_

// Host and port as written in addresses and URLs: "host", "host:port",
// "[v6]" or "[v6]:port". One grammar, read by ParseHostAndPort; the daemon's
// listen addresses (ParseHostPort, CheckListenAddress) and the bridge's
// origin URL and --moq-listen are parsed with it.
//
// Pure functions; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats {

// What ParseHostAndPort reads.
struct HostAndPort {
  std::string host;              // without brackets (an IPv6 address may carry a %zone)
  std::optional<uint16_t> port;  // nullopt when none was written
  bool bracketed = false;        // the host was written in brackets (IPv6)
};

// What ParseHostAndPort finds wrong with its input.
enum class HostPortError {
  kUnclosedBracket,      // "[::1"
  kNoColonAfterBracket,  // "[::1]80", and "[::1]" when the port is required
  kEmptyZone,            // "[fe80::1%]:80"
  kBadIpv6,              // "[nope]:80"
  kNoPort,               // "host" when the port is required
  kNoHost,               // ":80"
  kManyColons,           // "a:b:c", "::1:80" (an IPv6 address without brackets)
  kBadIpv4,              // "300.1.1.1:80"
  kBadHostName,          // "-bad-:80"
  kEmptyPort,            // "host:"
  kPortNotNumber,        // "host:8o"
  kPortOutOfRange,       // "host:65536", "host:000080"
};

// The words for `error`, written to follow the address they are about
// ("has no port"). HostPortErrorText gives the usual ones; a caller can
// pass its own to ParseHostAndPort, falling back to HostPortErrorText.
using HostPortPhrasing = std::string_view (*)(HostPortError error);
std::string_view HostPortErrorText(HostPortError error);

struct HostPortSyntax {
  // When false, "host" and "[v6]" without ":port" are accepted.
  bool port_required = true;
  // Whether a bracketed IPv6 address may carry a %zone ("[fe80::1%eth0]").
  bool zone_allowed = false;
};

// Parses "host[:port]" or "[v6][:port]": the host an IPv4 address, a host
// name (RFC 1123 labels, plus '_', which container DNS names carry) or, in
// brackets, an IPv6 address; the port 0..65535 in at most five digits.
// INVALID_ARGUMENT whose message is `phrasing` of what is wrong.
absl::StatusOr<HostAndPort> ParseHostAndPort(std::string_view text, HostPortSyntax syntax,
                                             HostPortPhrasing phrasing = HostPortErrorText);

// "host:port", with brackets around a host that has a ':' (IPv6).
std::string FormatHostPort(std::string_view host, uint16_t port);

// A TCP listen address.
struct HostPort {
  std::string host;  // without brackets (an IPv6 address may carry a %zone)
  uint16_t port = 0;
  bool ipv6 = false;  // it was written in brackets
};

// Parses a listen address, HOST:PORT: ParseHostAndPort with the port
// required and an IPv6 %zone allowed. INVALID_ARGUMENT saying what is wrong,
// phrased to follow the address ("has no port").
absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

inline constexpr std::string_view kUnixScheme = "unix:";

// True for "unix:PATH".
bool IsUnixAddress(std::string_view address);

// OK for "unix:PATH" (a non-empty path that fits a socket address) or a
// HOST:PORT that ParseHostPort accepts; INVALID_ARGUMENT saying what is
// wrong otherwise.
absl::Status CheckListenAddress(std::string_view address);

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_HOST_PORT_H_
