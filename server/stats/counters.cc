#include "server/stats/counters.h"

namespace moq_stats::server {

void Counters::Apply(const Delta& delta) {
  // Opens first, relaxed: the release adds of the closes below order them
  // before any reader that sees those closes.
  if (delta.broadcasts) broadcasts_.fetch_add(delta.broadcasts, std::memory_order_relaxed);
  if (delta.subscriptions) subscriptions_.fetch_add(delta.subscriptions, std::memory_order_relaxed);
  if (delta.bytes) bytes_.fetch_add(delta.bytes, std::memory_order_relaxed);
  if (delta.frames) frames_.fetch_add(delta.frames, std::memory_order_relaxed);
  if (delta.groups) groups_.fetch_add(delta.groups, std::memory_order_relaxed);
  if (delta.broadcasts_closed) broadcasts_closed_.fetch_add(delta.broadcasts_closed, std::memory_order_release);
  if (delta.subscriptions_closed) {
    subscriptions_closed_.fetch_add(delta.subscriptions_closed, std::memory_order_release);
  }
}

Snapshot Counters::Load() const {
  Snapshot s;
  // Closed counts first (acquire), then the open counts: every open that
  // happened before a close we read is visible to the loads that follow.
  s.broadcasts_closed = broadcasts_closed_.load(std::memory_order_acquire);
  s.subscriptions_closed = subscriptions_closed_.load(std::memory_order_acquire);
  s.broadcasts = broadcasts_.load(std::memory_order_relaxed);
  s.subscriptions = subscriptions_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.frames = frames_.load(std::memory_order_relaxed);
  s.groups = groups_.load(std::memory_order_relaxed);
  return s;
}

bool Counters::active() const {
  uint64_t closed = subscriptions_closed_.load(std::memory_order_acquire);
  return subscriptions_.load(std::memory_order_relaxed) > closed;
}

}  // namespace moq_stats::server
