#ifndef MOQ_STATS_CLIENT_CLI_SIDECAR_CHANNEL_H_
#define MOQ_STATS_CLIENT_CLI_SIDECAR_CHANNEL_H_

// How moq-stats talks to the sidecar: the channel, the health check (called
// generically, so that the CLI needs no generated grpc.health.v1 code) and
// the words for a failed call.

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli/cli_flags.h"

namespace moq_stats {
namespace cli {

// A channel to `global.target` ("unix:PATH" or "HOST:PORT"), with the
// credentials the global flags name (a bearer token on every call, TLS).
// Calls made on it fail at once with UNAVAILABLE when the sidecar cannot be
// connected to (they do not wait for it to come up). INVALID_ARGUMENT when a
// credentials file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewSidecarChannel(const GlobalOptions& global);

// "NOT_FOUND", "UNAVAILABLE", ...
std::string StatusCodeName(grpc::StatusCode code);

// True for the statuses that mean the sidecar was not reached in time:
// UNAVAILABLE and DEADLINE_EXCEEDED.
bool IsUnreachable(const grpc::Status& status);

// The message for a failed call of `what` (e.g. "GetLevel"):
//   cannot reach the sidecar at TARGET: UNAVAILABLE: ...      (IsUnreachable)
//   GetLevel failed: the sidecar at TARGET answered NOT_FOUND: no level "x"
std::string DescribeCallError(absl::string_view what, const std::string& target, const grpc::Status& status);

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN", or the number of a
// status this code does not know.
std::string ServingStatusName(int status);

// grpc.health.v1.Health/Check of `service` ("" for the server as a whole),
// with a deadline. OK with `*status` set (a value of ServingStatus, or
// another number should the server send one), or the call's error.
grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service, absl::Time deadline,
                         int* status);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_SIDECAR_CHANNEL_H_
