#include "server/sessions/session_eviction.h"

namespace moq_stats::server {
namespace {

// Lower is evicted first; nullopt: not evictable.
std::optional<int> Rank(const EvictionCandidate& c, absl::Time now, absl::Duration idle_timeout) {
  if (c.holds_nothing) return c.attached ? 1 : 0;
  if (!c.attached) return 2;
  if (now - c.last_active >= idle_timeout) return 3;
  return std::nullopt;
}

}  // namespace

std::optional<size_t> ChooseEviction(absl::Span<const EvictionCandidate> candidates, absl::Time now,
                                     absl::Duration idle_timeout) {
  std::optional<size_t> best;
  std::optional<int> best_rank;
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::optional<int> rank = Rank(candidates[i], now, idle_timeout);
    if (!rank) continue;
    if (!best || *rank < *best_rank ||
        (*rank == *best_rank && candidates[i].last_active < candidates[*best].last_active)) {
      best = i;
      best_rank = rank;
    }
  }
  return best;
}

}  // namespace moq_stats::server
