#include "client/cli/stop_signals.h"

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "absl/time/clock.h"

namespace moq_stats {
namespace cli {

StopSignals::StopSignals() {
  sigemptyset(&stop_set_);
  sigaddset(&stop_set_, SIGINT);
  sigaddset(&stop_set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set_, &previous_);
}

StopSignals::~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

bool StopSignals::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    const timespec wait = absl::ToTimespec(left);
    const int signal = sigtimedwait(&stop_set_, nullptr, &wait);
    if (signal > 0) return true;
    if (errno == EAGAIN) return false;  // the timeout passed
    // EINTR: another signal's handler ran; wait for the rest of the time.
    if (absl::Now() >= deadline) return false;
  }
}

}  // namespace cli
}  // namespace moq_stats
