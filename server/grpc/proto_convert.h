#ifndef MOQ_STATS_SERVER_GRPC_PROTO_CONVERT_H_
#define MOQ_STATS_SERVER_GRPC_PROTO_CONVERT_H_

// A level as the read side of the contract shows it (GetLevel, ListLevels).

#include "moq/stats/v1/stats.pb.h"
#include "server/stats/level.h"

namespace moq_stats::server {

// A level's key, advertised path, publisher state and four (tier, role)
// counter sets.
void LevelToProto(const Level& level, moq::stats::v1::Level* out);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_PROTO_CONVERT_H_
