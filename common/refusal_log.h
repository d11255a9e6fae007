#ifndef MOQ_STATS_COMMON_REFUSAL_LOG_H_
#define MOQ_STATS_COMMON_REFUSAL_LOG_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace moq_stats {

// Decides when repeated refusals of one kind (a connection over a cap, a
// session over the slots) are logged: the first one at once, then at most
// one line per interval carrying how many were refused since the last line.
// A flood of refusals costs one log line per interval, not one per refusal.
// Sans-IO: the caller passes the time and writes the line.
//
// Safe for concurrent access from multiple threads.
class RefusalLog {
 public:
  explicit RefusalLog(absl::Duration interval = absl::Seconds(10)) : interval_(interval) {}

  // Counts one refusal at `now`. Returns how many refusals the line to log
  // now should report (this one included), or 0 when nothing is to be
  // logged yet.
  uint64_t Refused(absl::Time now);

  // Refusals so far, logged or not.
  uint64_t total() const;

 private:
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  absl::Time last_logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_REFUSAL_LOG_H_
