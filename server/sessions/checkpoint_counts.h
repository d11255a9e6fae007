#ifndef MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_COUNTS_H_
#define MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_COUNTS_H_

#include "absl/status/status.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// Whether restoring `checkpoint` into `stats` keeps the counts true, checked
// before anything is restored:
//  - on every level, in every tier and role, at most as many broadcasts and
//    subscriptions closed as opened;
//  - on every level of the checkpoint, the guards the sessions hold open
//    (summed over the handles whose path is at or under the level's key) at
//    most the level's open minus closed, so that closing them when the
//    grace period ends never takes closed above opened.
//  - the same of every path counter and every presence counter (the node
//    format's), when the checkpoint has them: closed at most opened, and
//    the guards the sessions hold on a (tier, path) or (tier, auth root) at
//    most its open minus closed.
// A named tier's handles count in no level, presence handles in neither.
// The sessions counted are those SessionRegistry::Restore keeps: the first
// record of each id, handles with a valid tier and path not under the stats
// prefix (those count nowhere). Nothing is checked when `stats` is disabled:
// it restores no counts.
//
// A checkpoint the sidecar wrote always passes (it is a consistent cut:
// every level's open minus closed is exactly the guards the sessions hold
// there). DATA_LOSS naming the level, tier and role (and the session) that
// fail, for a file to be treated as corrupt.
absl::Status CheckCheckpointCounts(const moq::stats::v1::Checkpoint& checkpoint, const Stats& stats);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_COUNTS_H_
