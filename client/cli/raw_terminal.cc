#include "client/cli/raw_terminal.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace moq_stats {
namespace cli {
namespace {

// The alternate screen on, the cursor hidden; and back.
constexpr char kEnterScreen[] = "\x1b[?1049h\x1b[?25l";
constexpr char kLeaveScreen[] = "\x1b[?25h\x1b[?1049l";

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// What the crash handler restores. Set before the handler is installed and
// cleared after it is removed; `active` tells the handler whether they are
// valid (seq_cst: the handler may run on any thread).
std::atomic<bool> active{false};
int saved_in_fd = -1;
int saved_out_fd = -1;
termios saved_settings;
struct sigaction previous_actions[sizeof(kFatalSignals) / sizeof(kFatalSignals[0])];

// Only async-signal-safe calls.
void RestoreTerminal() {
  tcsetattr(saved_in_fd, TCSAFLUSH, &saved_settings);
  ssize_t ignored = write(saved_out_fd, kLeaveScreen, sizeof(kLeaveScreen) - 1);
  (void)ignored;
}

void OnFatalSignal(int signal) {
  if (active.exchange(false)) RestoreTerminal();
  // SA_RESETHAND put the default action back: the signal, raised again once
  // this handler returns, ends the process as it would have.
  raise(signal);
}

void WriteAll(int fd, const char* text, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, text, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<TerminalSize> TerminalSizeOf(int fd) {
  winsize size;
  if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) return std::nullopt;
  return TerminalSize{size.ws_col, size.ws_row};
}

absl::StatusOr<std::unique_ptr<RawTerminal>> RawTerminal::Enter(int in_fd, int out_fd) {
  if (!isatty(in_fd)) return absl::FailedPreconditionError("the input is not a terminal");
  if (active.load()) return absl::FailedPreconditionError("the terminal is already in raw mode");
  termios settings;
  if (tcgetattr(in_fd, &settings) != 0) {
    return absl::InternalError(absl::StrCat("cannot read the terminal's settings: ", std::strerror(errno)));
  }
  saved_settings = settings;
  saved_in_fd = in_fd;
  saved_out_fd = out_fd;

  // Keys as they are typed, no echo, Ctrl-C and Ctrl-Z as bytes, no flow
  // control; output as usual ('\n' still moves to the next line's start).
  settings.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
  settings.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL | INLCR | IGNCR | ISTRIP | BRKINT);
  settings.c_cc[VMIN] = 1;
  settings.c_cc[VTIME] = 0;

  active.store(true);
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = OnFatalSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(kFatalSignals[0]); ++i) {
    sigaction(kFatalSignals[i], &action, &previous_actions[i]);
  }
  if (tcsetattr(in_fd, TCSAFLUSH, &settings) != 0) {
    const int error = errno;
    active.store(false);
    for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(kFatalSignals[0]); ++i) {
      sigaction(kFatalSignals[i], &previous_actions[i], nullptr);
    }
    return absl::InternalError(absl::StrCat("cannot change the terminal's settings: ", std::strerror(error)));
  }
  WriteAll(out_fd, kEnterScreen, sizeof(kEnterScreen) - 1);
  return std::unique_ptr<RawTerminal>(new RawTerminal());
}

RawTerminal::~RawTerminal() {
  if (active.exchange(false)) RestoreTerminal();
  for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(kFatalSignals[0]); ++i) {
    sigaction(kFatalSignals[i], &previous_actions[i], nullptr);
  }
}

}  // namespace cli
}  // namespace moq_stats
