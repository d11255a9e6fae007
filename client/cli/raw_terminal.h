#ifndef MOQ_STATS_CLIENT_CLI_RAW_TERMINAL_H_
#define MOQ_STATS_CLIENT_CLI_RAW_TERMINAL_H_

// The terminal as `moq-stats top` uses it: keys read one at a time, a screen
// of its own, and its size.

#include <cstddef>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"

namespace moq_stats {
namespace cli {

struct TerminalSize {
  size_t columns = 0;
  size_t lines = 0;
};

// The size of the terminal on `fd` (TIOCGWINSZ); nullopt when `fd` is not a
// terminal or reports no size.
std::optional<TerminalSize> TerminalSizeOf(int fd);

// While it lives, the terminal on `in_fd` reads keys one at a time without
// echo or signals (Ctrl-C arrives as the byte 0x03; output processing stays
// on), and `out_fd` shows the alternate screen with the cursor hidden.
// Everything is put back as it was by the destructor and, should the process
// crash, by a handler of SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that
// restores the terminal before the signal takes its default action. Signals
// that end the process normally (SIGINT, SIGTERM, SIGHUP) are the caller's
// to turn into a normal return (see SignalFd).
//
// At most one exists at a time. Use from one thread. Not copyable: it owns
// the terminal's state.
class RawTerminal {
 public:
  // FAILED_PRECONDITION when `in_fd` is not a terminal or one is already in
  // raw mode here; the errno text when its settings cannot be changed.
  static absl::StatusOr<std::unique_ptr<RawTerminal>> Enter(int in_fd, int out_fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  RawTerminal() = default;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_RAW_TERMINAL_H_
