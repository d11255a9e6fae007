#ifndef MOQ_STATS_PROTO_COUNTS_PROTO_H_
#define MOQ_STATS_PROTO_COUNTS_PROTO_H_

// The wire mapping of the shared traffic types (moq_stats/counts.h) in the
// moq.stats.v1 contract: tiers, roles, and the counters as a Snapshot (read
// side, checkpoints) or as a HandleDelta (a relay's batch). Used by the
// relay-side library and the sidecar alike.

#include <optional>

#include "moq/stats/v1/stats.pb.h"
#include "moq_stats/counts.h"

namespace moq_stats {

moq::stats::v1::Tier TierToProto(Tier tier);
// nullopt for TIER_UNSPECIFIED and values this version does not know.
std::optional<Tier> TierFromProto(int tier);

moq::stats::v1::Role RoleToProto(Role role);
// nullopt for ROLE_UNSPECIFIED and values this version does not know.
std::optional<Role> RoleFromProto(int role);

// Counters read at one moment.
void CountsToProto(const Counts& counts, moq::stats::v1::Snapshot* out);
Counts CountsFromProto(const moq::stats::v1::Snapshot& snapshot);

// A batch of bumps of one (handle, role): the counter fields of a
// HandleDelta (its handle and role are set by the caller).
void CountsToDelta(const Counts& delta, moq::stats::v1::HandleDelta* out);
Counts CountsFromDelta(const moq::stats::v1::HandleDelta& delta);

}  // namespace moq_stats

#endif  // MOQ_STATS_PROTO_COUNTS_PROTO_H_
