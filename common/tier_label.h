#ifndef MOQ_STATS_COMMON_TIER_LABEL_H_
#define MOQ_STATS_COMMON_TIER_LABEL_H_

// Tier labels: the names of the tiers of the node format. The default tier
// (the level format's external tier) is "", the level format's internal tier
// is "internal", and a relay may name further tiers (Define.tier_label),
// which only the node format publishes.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace moq_stats {

// The longest tier label accepted, in bytes.
inline constexpr size_t kMaxTierLabelBytes = 64;

// The normalised label of `raw`: "" and "external" are the default tier "",
// "internal" is "internal", and any other one path segment (UTF-8, at most
// kMaxTierLabelBytes bytes, no '/', not "." or "..") is itself.
// INVALID_ARGUMENT naming what is wrong otherwise.
absl::StatusOr<std::string> NormalizeTierLabel(std::string_view raw);

// True for a label that is neither the default tier nor "internal": a tier
// the level format has no field for.
inline bool IsNamedTier(std::string_view label) { return !label.empty() && label != "internal"; }

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_TIER_LABEL_H_
