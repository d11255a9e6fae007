#ifndef MOQ_STATS_COMMON_TICK_WHEEL_H_
#define MOQ_STATS_COMMON_TICK_WHEEL_H_

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/scheduler.h"

namespace moq_stats {

// Batches many periodic items onto few scheduler tasks: an item added with a
// deadline joins the slot at the first multiple of `granularity` at or after
// it, and each slot is one Scheduler task that hands all its items to the
// handler at once. A hundred thousand levels ticking every second thus cost
// a few hundred heap operations a second, not a hundred thousand.
//
// Items re-arm by being added again (typically from the handler).
//
// Safe for concurrent access from multiple threads without external
// synchronization. The handler runs on the thread that drives the scheduler,
// with no lock of the wheel held; it must be safe to call concurrently if
// several threads drive the scheduler. The scheduler must outlive the wheel; a slot that fires
// after the wheel is gone does nothing.
template <typename T>
class TickWheel : public std::enable_shared_from_this<TickWheel<T>> {
 public:
  // Called with the items of one slot (the vector may be consumed) and the
  // slot's time.
  using Handler = absl::AnyInvocable<void(std::vector<T>& due, absl::Time slot)>;

  static std::shared_ptr<TickWheel> Create(Scheduler* scheduler, absl::Duration granularity, Handler handler) {
    return std::shared_ptr<TickWheel>(new TickWheel(scheduler, granularity, std::move(handler)));
  }
  TickWheel(const TickWheel&) = delete;
  TickWheel& operator=(const TickWheel&) = delete;

  // The slot an item with this deadline joins.
  absl::Time SlotOf(absl::Time deadline) const {
    return absl::UnixEpoch() + absl::Ceil(deadline - absl::UnixEpoch(), granularity_);
  }

  void Add(absl::Time deadline, T item) {
    absl::Time slot = SlotOf(deadline);
    bool schedule = false;
    {
      absl::MutexLock lock(&mu_);
      std::vector<T>& items = slots_[slot];
      schedule = items.empty();
      items.push_back(std::move(item));
    }
    if (schedule) ScheduleSlot(slot);
  }

  // Items waiting in all slots.
  size_t size() const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& [slot, items] : slots_) n += items.size();
    return n;
  }

 private:
  TickWheel(Scheduler* scheduler, absl::Duration granularity, Handler handler)
      : scheduler_(scheduler), granularity_(granularity), handler_(std::move(handler)) {}

  void ScheduleSlot(absl::Time slot) {
    scheduler_->ScheduleAt(slot, [weak = this->weak_from_this(), slot] {
      if (auto wheel = weak.lock()) wheel->Fire(slot);
    });
  }

  void Fire(absl::Time slot) {
    std::vector<T> due;
    {
      absl::MutexLock lock(&mu_);
      auto it = slots_.find(slot);
      if (it == slots_.end()) return;
      due = std::move(it->second);
      slots_.erase(it);
    }
    handler_(due, slot);
  }

  // Constant after construction.
  Scheduler* const scheduler_;
  const absl::Duration granularity_;
  Handler handler_;

  mutable absl::Mutex mu_;
  // A slot is in the map exactly while its scheduler task is pending.
  std::map<absl::Time, std::vector<T>> slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_TICK_WHEEL_H_
