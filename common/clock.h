#ifndef MOQ_STATS_COMMON_CLOCK_H_
#define MOQ_STATS_COMMON_CLOCK_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace moq_stats {

// The source of time for everything that schedules or stamps. Production code
// uses Clock::Real(); tests inject a SimulatedClock and advance it by hand.
//
// Implementations are safe for concurrent access from multiple threads.
class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time, for deadlines and intervals. Never goes backwards; its
  // epoch is arbitrary.
  virtual absl::Time Now() const = 0;

  // Wall-clock milliseconds since the Unix epoch, for frame timestamps.
  virtual int64_t UnixMillis() const = 0;

  // The process-wide real clock (steady clock for Now, system clock for
  // UnixMillis). Never destroyed.
  static const Clock* Real();
};

// A clock that moves only when told to. Both readings advance together.
class SimulatedClock final : public Clock {
 public:
  // Starts at monotonic `start` and wall time `unix_millis`.
  explicit SimulatedClock(absl::Time start = absl::UnixEpoch() + absl::Hours(1),
                          int64_t unix_millis = 1'700'000'000'000);

  absl::Time Now() const override;
  int64_t UnixMillis() const override;

  // Moves both readings forward by `d` (ignored when negative).
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration wall_offset_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_CLOCK_H_
