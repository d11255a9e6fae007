#include "client/cli/top_command.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/raw_terminal.h"
#include "client/cli/sidecar_channel.h"
#include "client/cli/signal_fd.h"
#include "client/cli/top_model.h"
#include "client/cli/top_source.h"
#include "client/cli/top_view.h"

namespace moq_stats {
namespace cli {
namespace {

constexpr int kIn = STDIN_FILENO;
constexpr int kOut = STDOUT_FILENO;
// The screen when the terminal reports no size.
constexpr TerminalSize kFallbackSize = {80, 24};

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal is gone: nothing more to show
    done += static_cast<size_t>(n);
  }
}

// The lines from the top left corner, each clearing the rest of its line,
// then clearing below; no line end after the last line, so that a screen
// as tall as the terminal does not scroll.
std::string ScreenText(const std::vector<std::string>& lines) {
  std::string text = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&text, lines[i], "\x1b[K", i + 1 < lines.size() ? "\r\n" : "");
  }
  text += "\x1b[J";
  return text;
}

// What a key typed asks for.
enum class KeyAction { kNone, kQuit, kRedraw };

KeyAction OnKey(char key, TopSort* sort) {
  switch (key) {
    case 'q':
    case 'Q':
    case '\x03':  // Ctrl-C: the terminal sends it as a byte in raw mode
      return KeyAction::kQuit;
    case 's':
    case 'S':
      *sort = NextTopSort(*sort);
      return KeyAction::kRedraw;
    case 'b':
      *sort = TopSort::kBitrate;
      return KeyAction::kRedraw;
    case 'v':
      *sort = TopSort::kViewers;
      return KeyAction::kRedraw;
    default:
      return KeyAction::kNone;
  }
}

}  // namespace

CommandOutcome RunTop(const Invocation& inv, std::ostream& out) {
  if (inv.global.json) return CommandOutcome{2, "top has no --json output: see `levels --json` and `watch --json`"};
  // Before the channel: gRPC's threads must inherit the blocked mask.
  SignalFd signals({SIGINT, SIGTERM, SIGHUP, SIGWINCH});
  if (!signals.ok()) return CommandOutcome{1, "cannot watch for signals (signalfd failed)"};
  const bool on_terminal = isatty(kIn) && isatty(kOut);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(inv.global);
  if (!channel.ok()) return CommandOutcome{2, std::string(channel.status().message())};
  TopSource source(*channel, inv.global.target, inv.top.prefix, inv.global.timeout);

  std::unique_ptr<RawTerminal> terminal;
  if (on_terminal) {
    absl::StatusOr<std::unique_ptr<RawTerminal>> raw = RawTerminal::Enter(kIn, kOut);
    if (!raw.ok()) return CommandOutcome{1, std::string(raw.status().message())};
    terminal = *std::move(raw);
  }

  TopModel model;
  TopScreen screen;
  screen.target = inv.global.target;
  screen.interval = inv.top.interval;
  screen.sort = inv.top.sort;
  const absl::TimeZone zone = absl::LocalTimeZone();
  auto draw = [&] {
    screen.now = absl::Now();
    if (on_terminal) {
      const TerminalSize size = TerminalSizeOf(kOut).value_or(kFallbackSize);
      screen.rows = model.Rows(screen.sort, TopRowsFitting(size.lines));
      WriteAll(kOut, ScreenText(RenderTopScreen(screen, size.columns, size.lines, zone)));
    } else {
      screen.rows = model.Rows(screen.sort, model.level_count());
      out << RenderTopPlain(screen, zone) << std::flush;
    }
  };

  uint64_t refreshes = 0;
  absl::Time next_read = absl::Now();
  for (;;) {
    if (absl::Now() >= next_read) {
      const absl::Time started = absl::Now();
      TopRead read;
      if (absl::Status s = source.Read(&read); s.ok()) {
        model.Update(read.taken, read.levels);
        screen.sidecar = std::move(read.sidecar);
        screen.levels = model.level_count();
        screen.totals = model.totals();
        screen.error.clear();
      } else {
        screen.error = std::string(s.message());
      }
      ++refreshes;
      draw();
      if (inv.top.iterations != 0 && refreshes >= inv.top.iterations) {
        return screen.error.empty() ? CommandOutcome{} : CommandOutcome{1, screen.error};
      }
      // Once per interval from the start of each read; at once after a read
      // that took longer.
      next_read = std::max(started + inv.top.interval, absl::Now());
    }

    pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {kIn, POLLIN, 0}};
    const nfds_t count = on_terminal ? 2 : 1;
    const absl::Duration wait = std::max(next_read - absl::Now(), absl::ZeroDuration());
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))));
    if (poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
      return CommandOutcome{1, absl::StrCat("poll failed: errno ", errno)};
    }
    bool redraw = false;
    for (int signal : signals.Take()) {
      if (signal == SIGWINCH) {
        redraw = true;
      } else {
        return CommandOutcome{};  // SIGINT, SIGTERM, SIGHUP: the terminal is put back on return
      }
    }
    if (on_terminal && (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return CommandOutcome{};
    if (on_terminal && (fds[1].revents & POLLIN) != 0) {
      char keys[64];
      const ssize_t n = read(kIn, keys, sizeof(keys));
      if (n == 0) return CommandOutcome{};  // the terminal is gone
      for (ssize_t i = 0; i < n; ++i) {
        switch (OnKey(keys[i], &screen.sort)) {
          case KeyAction::kQuit:
            return CommandOutcome{};
          case KeyAction::kRedraw:
            redraw = true;
            break;
          case KeyAction::kNone:
            break;
        }
      }
    }
    if (redraw) draw();
  }
}

}  // namespace cli
}  // namespace moq_stats
