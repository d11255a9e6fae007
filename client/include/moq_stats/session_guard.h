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
class [[nodiscard]] SessionGuard {
 public:
  SessionGuard() = default;
  SessionGuard(SessionGuard&& other) noexcept
      : handle_(std::move(other.handle_)), slot_(std::exchange(other.slot_, nullptr)) {}
  SessionGuard& operator=(SessionGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  ~SessionGuard() { Close(); }

  // True when this guard counts nothing (a disabled Stats, a default or
  // moved-from guard, an invalid root or tier label).
  bool empty() const { return slot_ == nullptr; }

 private:
  friend class StatsHandle;
  // `handle` is a presence handle (or null); its publisher slot's
  // broadcasts count the sessions opened, broadcasts_closed those closed.
  explicit SessionGuard(std::shared_ptr<internal::Handle> handle)
      : handle_(std::move(handle)), slot_(internal::SlotOf(handle_, Role::kPublisher)) {
    if (slot_) (*slot_)[Counter::kBroadcasts].fetch_add(1, std::memory_order_relaxed);
  }
  void Close() {
    // Release: the sidecar must never see this close before the open.
    if (slot_) (*slot_)[Counter::kBroadcastsClosed].fetch_add(1, std::memory_order_release);
    slot_ = nullptr;
    handle_.reset();
  }

  std::shared_ptr<internal::Handle> handle_;
  internal::RoleSlot* slot_ = nullptr;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_SESSION_GUARD_H_
