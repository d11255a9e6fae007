#ifndef MOQ_STATS_CLIENT_SRC_HANDLE_H_
#define MOQ_STATS_CLIENT_SRC_HANDLE_H_

#include <array>
#include <cstdint>
#include <string>

#include "moq_stats/stats.h"

namespace moq_stats {
namespace internal {

// Both roles' counters, read at one moment (by Role).
using HandleValues = std::array<Counts, 2>;

// One broadcast handle: a (path, tier) with an id the sidecar knows it by,
// and a slot of cumulative counters per role that the guards bump. The
// counters only grow; the flusher sends differences.
//
// A presence handle (an auth root in a tier) counts session guards: opened
// in its publisher slot's broadcasts, closed in its broadcasts_closed; the
// flusher sends them as sessions_opened / sessions_closed.
//
// Shared by the library's handle table and by every BroadcastStats and guard
// of it. The slots are safe for concurrent access from multiple threads.
struct Handle {
  Handle(std::string path, Tier tier, uint32_t id, std::string label = "", bool presence = false)
      : path(std::move(path)), tier(tier), id(id), label(std::move(label)), presence(presence) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Reads both roles' counters. Closed counts are read first, with acquire,
  // so a read never shows more closed than opened (guards add the close with
  // release after their open).
  HandleValues Load() const;

  const std::string path;  // normalised; a presence handle's auth root
  const Tier tier;
  const uint32_t id;
  // A named tier's label (Define.tier_label); empty for the two enum tiers.
  const std::string label;
  const bool presence;
  std::array<RoleSlot, 2> slots;
};

}  // namespace internal
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_SRC_HANDLE_H_
