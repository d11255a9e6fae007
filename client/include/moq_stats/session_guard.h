#ifndef MOQ_STATS_SESSION_GUARD_H_
#define MOQ_STATS_SESSION_GUARD_H_

// The session guard of the relay-side library: one MoQ session accepted by
// the relay under an auth root, in a tier, for the node format's
// `sessions.json`.
//
//   moq_stats::SessionGuard session = stats.tier("edge").session("acme");  // sessions += 1
//   // dropping it counts sessions_closed
//
// Included by moq_stats/stats.h.

#include <atomic>
#include <memory>
#include <utility>

#include "moq_stats/stats.h"

namespace moq_stats {

// RAII session guard. Move-only: it is the one record of an open session,
// closed exactly once. Opening and closing are one relaxed (closing:
// release) atomic add each. Use from one thread at a time.
//
// A presence handle's publisher slot counts the sessions opened in
// `broadcasts` and those closed in `broadcasts_closed`, so a session guard
// is the broadcast guard of that slot, with nothing else of it exposed.
class [[nodiscard]] SessionGuard {
 public:
  SessionGuard() = default;

  // True when this guard counts nothing (a disabled Stats, a default or
  // moved-from guard, an invalid root or tier label).
  bool empty() const { return guard_.empty(); }

 private:
  friend class StatsHandle;
  explicit SessionGuard(PublisherStats guard) : guard_(std::move(guard)) {}

  PublisherStats guard_;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_SESSION_GUARD_H_
