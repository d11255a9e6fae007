#ifndef MOQ_STATS_COMMON_HOST_PORT_H_
#define MOQ_STATS_COMMON_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats {

// A TCP listen address.
struct HostPort {
  std::string host;  // without brackets (an IPv6 address may carry a %zone)
  uint16_t port = 0;
  bool ipv6 = false;  // it was written in brackets
};

// Parses HOST:PORT: HOST an IPv4 address, a bracketed IPv6 address (with an
// optional %zone) or a host name, PORT 0..65535. INVALID_ARGUMENT saying what
// is wrong, phrased to follow the address ("has no port").
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
