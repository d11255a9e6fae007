#ifndef MOQ_STATS_SERVER_STATS_TIER_H_
#define MOQ_STATS_SERVER_STATS_TIER_H_

// What the level format keeps per level: one set of counters per (tier,
// role), and the track each is published on.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "moq_stats/counts.h"

namespace moq_stats::server {

// The four (tier, role) pairs, indexed 0..3 as TierRoleIndex gives.
inline constexpr size_t kTierRoleCount = 4;
constexpr size_t TierRoleIndex(Tier tier, Role role) {
  return static_cast<size_t>(tier) * 2 + static_cast<size_t>(role);
}
constexpr Tier TierAt(size_t index) { return static_cast<Tier>(index / 2); }
constexpr Role RoleAt(size_t index) { return static_cast<Role>(index % 2); }

// The name of the track that carries a (tier, role)'s frames on a level's
// broadcast: "publisher.json", "subscriber.json", "internal/publisher.json",
// "internal/subscriber.json".
constexpr std::string_view TrackName(Tier tier, Role role) {
  constexpr std::array<std::string_view, kTierRoleCount> kNames = {
      "publisher.json", "subscriber.json", "internal/publisher.json", "internal/subscriber.json"};
  return kNames[TierRoleIndex(tier, role)];
}

// The node format's label of a level-format tier: "" (the default tier) for
// external, "internal" for internal.
inline std::string TierLabelOf(Tier tier) { return tier == Tier::kExternal ? "" : "internal"; }

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_TIER_H_
