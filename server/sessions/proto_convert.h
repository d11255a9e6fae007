#ifndef MOQ_STATS_SERVER_SESSIONS_PROTO_CONVERT_H_
#define MOQ_STATS_SERVER_SESSIONS_PROTO_CONVERT_H_

// Between the core's types and their moq.stats.v1 wire forms.

#include "moq/stats/v1/stats.pb.h"
#include "server/stats/counters.h"
#include "server/stats/level.h"

namespace moq_stats::server {

void SnapshotToProto(const Snapshot& snapshot, moq::stats::v1::Snapshot* out);
Snapshot SnapshotFromProto(const moq::stats::v1::Snapshot& snapshot);

// A level's key, advertised path, publisher state and four snapshots.
void LevelToProto(const Level& level, moq::stats::v1::Level* out);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_PROTO_CONVERT_H_
