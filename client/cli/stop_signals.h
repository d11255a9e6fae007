#ifndef MOQ_STATS_CLIENT_CLI_STOP_SIGNALS_H_
#define MOQ_STATS_CLIENT_CLI_STOP_SIGNALS_H_

// Ctrl-C (SIGINT) and SIGTERM as something to wait for, for the commands that
// run until told to stop (watch, bump --hold) and must then end cleanly.

#include <signal.h>

#include "absl/time/time.h"

namespace moq_stats {
namespace cli {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it
// starts afterwards: create it before any other thread (gRPC's included)
// exists, so that no thread takes the signal's default action. The signals
// then stay pending until Wait takes one. The destructor restores the
// previous mask.
//
// Wait may be called from any one thread at a time. Not copyable: it owns
// the mask.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Waits up to `timeout` for SIGINT or SIGTERM: true when one came.
  bool Wait(absl::Duration timeout);

 private:
  sigset_t stop_set_;
  sigset_t previous_;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_STOP_SIGNALS_H_
