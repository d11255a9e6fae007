#ifndef MOQ_STATS_SERVER_GRPC_GRPC_STATUS_H_
#define MOQ_STATS_SERVER_GRPC_GRPC_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace moq_stats::server {

// The gRPC status for an absl::Status, at the service edge: the canonical
// codes are the same numbers, the message is kept.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_GRPC_STATUS_H_
