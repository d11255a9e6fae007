#ifndef MOQ_STATS_SERVER_STATS_COUNTERS_H_
#define MOQ_STATS_SERVER_STATS_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "moq_stats/counts.h"

namespace moq_stats::server {

// Cumulative atomic counters for one (tier, role) on one level: the shared
// AtomicCounts (its ordering rules keep closed counts at or below open
// counts for every reader), with the bumps the guards make.
//
// Safe for concurrent access from multiple threads.
class Counters : public AtomicCounts {
 public:
  void OpenBroadcast() { (*this)[Counter::kBroadcasts].fetch_add(1, std::memory_order_relaxed); }
  void CloseBroadcast() { (*this)[Counter::kBroadcastsClosed].fetch_add(1, std::memory_order_release); }
  void OpenSubscription() { (*this)[Counter::kSubscriptions].fetch_add(1, std::memory_order_relaxed); }
  void CloseSubscription() { (*this)[Counter::kSubscriptionsClosed].fetch_add(1, std::memory_order_release); }
  void AddBytes(uint64_t n) { (*this)[Counter::kBytes].fetch_add(n, std::memory_order_relaxed); }
  void AddFrames(uint64_t n) { (*this)[Counter::kFrames].fetch_add(n, std::memory_order_relaxed); }
  void AddGroups(uint64_t n) { (*this)[Counter::kGroups].fetch_add(n, std::memory_order_relaxed); }

  // True while more subscriptions were opened than closed.
  bool active() const;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_COUNTERS_H_
