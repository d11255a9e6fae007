#ifndef MOQ_STATS_CLIENT_CLI_SIGNAL_FD_H_
#define MOQ_STATS_CLIENT_CLI_SIGNAL_FD_H_

// Signals as a descriptor to poll (signalfd), for `moq-stats top`, which
// waits on the terminal, its resizing and its stop signals at once.

#include <signal.h>

#include <initializer_list>
#include <vector>

namespace moq_stats {
namespace cli {

// Blocks `signals` in the calling thread, and so in every thread it starts
// afterwards: create it before any other thread (gRPC's included) exists, so
// that no thread takes a signal's default action. The signals then wait on
// fd() until Take reads them. The destructor closes the descriptor and
// restores the previous mask.
//
// Use from one thread. Not copyable: it owns the descriptor and the mask.
class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> signals);
  ~SignalFd();
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;

  // Readable while a signal is pending; -1 when signalfd failed (ok()
  // false: the signals are blocked and nothing reports them).
  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

  // The signals pending, in the order read; empty when none. Never blocks.
  std::vector<int> Take();

 private:
  sigset_t set_;
  sigset_t previous_;
  int fd_ = -1;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_SIGNAL_FD_H_
