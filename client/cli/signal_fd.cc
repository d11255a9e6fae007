#include "client/cli/signal_fd.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace moq_stats {
namespace cli {

SignalFd::SignalFd(std::initializer_list<int> signals) {
  sigemptyset(&set_);
  for (int signal : signals) sigaddset(&set_, signal);
  pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  fd_ = signalfd(-1, &set_, SFD_NONBLOCK | SFD_CLOEXEC);
}

SignalFd::~SignalFd() {
  if (fd_ >= 0) close(fd_);
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

std::vector<int> SignalFd::Take() {
  std::vector<int> out;
  if (fd_ < 0) return out;
  for (;;) {
    signalfd_siginfo info;
    const ssize_t got = read(fd_, &info, sizeof(info));
    if (got == static_cast<ssize_t>(sizeof(info))) {
      out.push_back(static_cast<int>(info.ssi_signo));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    return out;  // EAGAIN: nothing more pending
  }
}

}  // namespace cli
}  // namespace moq_stats
