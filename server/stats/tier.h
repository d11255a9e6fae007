#ifndef MOQ_STATS_SERVER_STATS_TIER_H_
#define MOQ_STATS_SERVER_STATS_TIER_H_

#include <array>
#include <cstddef>
#include <string_view>

namespace moq_stats::server {

// Traffic class: customer-facing (external) or cluster-peer (internal). A
// StatsHandle is scoped to one tier.
enum class Tier { kExternal = 0, kInternal = 1 };

// Direction: the publisher role is egress, the subscriber role ingress.
enum class Role { kPublisher = 0, kSubscriber = 1 };

inline constexpr std::array<Tier, 2> kTiers = {Tier::kExternal, Tier::kInternal};
inline constexpr std::array<Role, 2> kRoles = {Role::kPublisher, Role::kSubscriber};

// "external" / "internal", as written in frames.
constexpr std::string_view TierName(Tier tier) { return tier == Tier::kExternal ? "external" : "internal"; }

// "publisher" / "subscriber", as written in frames.
constexpr std::string_view RoleName(Role role) { return role == Role::kPublisher ? "publisher" : "subscriber"; }

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

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_TIER_H_
