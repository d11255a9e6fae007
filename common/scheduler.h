#ifndef MOQ_STATS_COMMON_SCHEDULER_H_
#define MOQ_STATS_COMMON_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace moq_stats {

// A timer heap: tasks to run at given times. It owns no thread and reads no
// clock; whoever drives it says what time it is (`RunDue(now)`). In production
// a SchedulerThread drives it with the real clock; tests drive it with a
// SimulatedClock, so nothing ever sleeps waiting for a tick.
//
// One Scheduler serves every level's tick publisher and the housekeeping of
// the level tree, instead of a thread per level.
//
// Safe for concurrent access from multiple threads without external
// synchronization. Tasks run on the thread that calls RunDue, one at a time,
// without any Scheduler lock held, so a task may schedule further tasks.
class Scheduler {
 public:
  using Task = absl::AnyInvocable<void()>;

  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` at or after `when`. Tasks due at the same time run in the
  // order they were scheduled. After Shutdown() the task is dropped unrun.
  void ScheduleAt(absl::Time when, Task task);

  // Runs, in deadline order, every task due at or before `now`, including
  // tasks those tasks schedule for times at or before `now`. Returns how many
  // ran.
  size_t RunDue(absl::Time now);

  // The earliest deadline pending, if any.
  std::optional<absl::Time> NextDeadline() const;

  size_t pending() const;

  // `wakeup` is called (with no lock held) whenever a task is scheduled
  // earlier than every task pending before it, so a driver sleeping until
  // the old deadline can wake. Set before tasks are scheduled.
  void SetWakeup(std::function<void()> wakeup);

  // Drops every pending task and refuses new ones.
  void Shutdown();

 private:
  struct Entry {
    absl::Time when;
    uint64_t seq;  // breaks ties in scheduling order
    // Held through a pointer so that the heap can copy entries cheaply.
    std::shared_ptr<Task> task;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.when != b.when ? a.when > b.when : a.seq > b.seq; }
  };

  mutable absl::Mutex mu_;
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> wakeup_ ABSL_GUARDED_BY(mu_);
};

// Drives a Scheduler on a thread of its own with a clock: sleeps until the next
// deadline (or a wakeup), then runs what is due. Stops and joins on
// destruction; the scheduler and clock must outlive it. Tasks may go on being
// scheduled while it is destroyed: the wakeup it leaves behind stays valid.
class SchedulerThread {
 public:
  SchedulerThread(Scheduler* scheduler, const Clock* clock);
  ~SchedulerThread();
  SchedulerThread(const SchedulerThread&) = delete;
  SchedulerThread& operator=(const SchedulerThread&) = delete;

 private:
  // Shared with the scheduler's wakeup callback, which may be called after
  // this SchedulerThread is gone.
  struct Signal {
    absl::Mutex mu;
    bool stop ABSL_GUARDED_BY(mu) = false;
    bool woken ABSL_GUARDED_BY(mu) = false;
  };

  void Run();

  Scheduler* const scheduler_;
  const Clock* const clock_;
  const std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
  std::thread thread_;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_SCHEDULER_H_
