#include "common/refusal_log.h"

namespace moq_stats {

uint64_t RefusalLog::Refused(absl::Time now) {
  absl::MutexLock lock(&mu_);
  ++total_;
  ++unlogged_;
  if (now - last_logged_ < interval_) return 0;
  last_logged_ = now;
  uint64_t count = unlogged_;
  unlogged_ = 0;
  return count;
}

uint64_t RefusalLog::total() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

}  // namespace moq_stats
