#ifndef MOQ_STATS_SERVER_SD_NOTIFY_H_
#define MOQ_STATS_SERVER_SD_NOTIFY_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace moq_stats::server {

// systemd's readiness protocol (sd_notify(3)), spoken by hand: one datagram
// such as "READY=1\nSTATUS=listening" sent to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a leading '@' names an abstract socket). Used by a unit of
// Type=notify: READY=1 once the sidecar serves, STOPPING=1 at SIGTERM.
//
// `socket_path` is the value of $NOTIFY_SOCKET; empty (unset): nothing is
// sent and the result is OK. Otherwise the error names the socket. Safe from
// any thread.
absl::Status SendSdNotify(std::string_view socket_path, std::string_view state);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SD_NOTIFY_H_
