#ifndef MOQ_STATS_TESTS_COMMON_TEST_TOOLS_SIMULATED_TIME_H_
#define MOQ_STATS_TESTS_COMMON_TEST_TOOLS_SIMULATED_TIME_H_

#include <optional>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/scheduler.h"

namespace moq_stats {
namespace test {

// A simulated clock and the scheduler it drives, for tests: time moves only
// in Advance, which runs every task at its own deadline, in order, as real
// time passing would (the way tokio's paused clock steps through timers).
class SimulatedTime {
 public:
  SimulatedClock& clock() { return clock_; }
  Scheduler& scheduler() { return scheduler_; }
  absl::Time Now() const { return clock_.Now(); }

  // Moves time forward by `d`, stopping at each deadline on the way to run
  // what is due then.
  void Advance(absl::Duration d) {
    absl::Time target = clock_.Now() + d;
    for (;;) {
      std::optional<absl::Time> next = scheduler_.NextDeadline();
      if (!next || *next > target) break;
      clock_.Advance(*next - clock_.Now());
      scheduler_.RunDue(clock_.Now());
    }
    clock_.Advance(target - clock_.Now());
    scheduler_.RunDue(clock_.Now());
  }

  // Runs what is due now without moving time.
  void RunDue() { scheduler_.RunDue(clock_.Now()); }

  // Moves the clock by `d` in one jump and then runs what is due, as a
  // stalled thread catching up would: late tasks run once, late.
  void Jump(absl::Duration d) {
    clock_.Advance(d);
    scheduler_.RunDue(clock_.Now());
  }

 private:
  SimulatedClock clock_;
  Scheduler scheduler_;
};

}  // namespace test
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_COMMON_TEST_TOOLS_SIMULATED_TIME_H_
