#include "server/stats/counters.h"

namespace moq_stats::server {

bool Counters::active() const {
  uint64_t closed = (*this)[Counter::kSubscriptionsClosed].load(std::memory_order_acquire);
  return (*this)[Counter::kSubscriptions].load(std::memory_order_relaxed) > closed;
}

}  // namespace moq_stats::server
