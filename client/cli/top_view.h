#ifndef MOQ_STATS_CLIENT_CLI_TOP_VIEW_H_
#define MOQ_STATS_CLIENT_CLI_TOP_VIEW_H_

// What `moq-stats top` prints, as text: a screen of a given size for a
// terminal, or plain lines for a pipe. No I/O; every text from outside (level
// keys, the sidecar's answers and errors, the target) goes through
// TerminalSafe, so nothing printed can act on the terminal.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/cli/top_model.h"

namespace moq_stats {
namespace cli {

// The sidecar as GetInfo describes it.
struct TopSidecarInfo {
  std::string version;
  absl::Duration uptime;
  // Relay sessions carried by a stream now (moq_stats_sessions_open);
  // nullopt when the sidecar does not report it.
  std::optional<uint64_t> relay_sessions;
  // The bridge's state in a few words, e.g. "dial connected, serve 1 session".
  std::string bridge;
};

// Everything one refresh shows.
struct TopScreen {
  std::string target;
  absl::Time now;  // when it was drawn
  absl::Duration interval;
  TopSort sort = TopSort::kBitrate;
  // From the last read that got an answer; nullopt before the first.
  std::optional<TopSidecarInfo> sidecar;
  // Why the last read failed; empty when it did not.
  std::string error;
  size_t levels = 0;
  TopRates totals;
  std::vector<TopRow> rows;
};

// Lines above the rows: three of status, a blank one, the column headers.
inline constexpr size_t kTopHeaderLines = 5;

// How many rows a screen `height` lines tall has room for.
size_t TopRowsFitting(size_t height);

// A rate per second in at most six columns: "-" when unknown, "0", "2.5",
// "850", "12.3k", "1.20M", "3.00G" (SI prefixes, three significant digits).
std::string FormatRate(std::optional<double> rate);

// The screen for a terminal `width` columns by `height` lines: at most
// `height` lines (rows beyond it are left out), each at most `width`
// columns (a key too long keeps its end, behind "…"), with no line ends or
// escape sequences (the caller places them). Times are shown in `zone`.
std::vector<std::string> RenderTopScreen(const TopScreen& screen, size_t width, size_t height, absl::TimeZone zone);

// The refresh for a pipe: the status lines, the column headers and every
// row, each line ending in '\n', the key column as wide as its widest key,
// and a blank line after. After a failed read: the first line, the status
// line with the error, and the blank line.
std::string RenderTopPlain(const TopScreen& screen, absl::TimeZone zone);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TOP_VIEW_H_
