#include "common/clock.h"

#include <chrono>

namespace moq_stats {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override {
    auto since = std::chrono::steady_clock::now().time_since_epoch();
    return absl::UnixEpoch() + absl::FromChrono(since);
  }
  int64_t UnixMillis() const override { return absl::ToUnixMillis(absl::Now()); }
};

}  // namespace

const Clock* Clock::Real() {
  static const RealClock* const clock = new RealClock();
  return clock;
}

SimulatedClock::SimulatedClock(absl::Time start, int64_t unix_millis)
    : now_(start), wall_offset_(absl::Milliseconds(unix_millis) - (start - absl::UnixEpoch())) {}

absl::Time SimulatedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

int64_t SimulatedClock::UnixMillis() const {
  absl::MutexLock lock(&mu_);
  return absl::ToInt64Milliseconds((now_ - absl::UnixEpoch()) + wall_offset_);
}

void SimulatedClock::Advance(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  absl::MutexLock lock(&mu_);
  now_ += d;
}

}  // namespace moq_stats
