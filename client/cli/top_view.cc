#include "client/cli/top_view.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/terminal_text.h"

namespace moq_stats {
namespace cli {
namespace {

constexpr size_t kGap = 2;          // spaces between columns
constexpr size_t kMinKeyWidth = 8;  // the key column on a narrow screen

// The numeric columns, right-aligned, each as wide as the widest header.
constexpr const char* kNumberHeaders[] = {"VIEWERS", "OUT b/s", "IN b/s", "FRAMES/s"};
constexpr size_t kNumberWidth = 8;

std::vector<std::string> NumberCells(const TopRates& r) {
  return {absl::StrCat(r.viewers), FormatRate(r.out_bits), FormatRate(r.in_bits), FormatRate(r.out_frames)};
}

std::vector<std::string> HeaderCells() { return {std::begin(kNumberHeaders), std::end(kNumberHeaders)}; }

// The level key for people: the root's is empty, so it is shown quoted.
std::string KeyCell(const std::string& key) { return key.empty() ? "\"\"" : TerminalSafe(key); }

std::string PadRight(std::string text, size_t width) {
  const size_t w = TerminalWidth(text);
  if (w < width) text.append(width - w, ' ');
  return text;
}

std::string PadLeft(const std::string& text, size_t width) {
  const size_t w = TerminalWidth(text);
  return w < width ? std::string(width - w, ' ') + text : text;
}

// One line of the table: the key (cut to `key_width`, keeping its end) and
// the numbers; no trailing spaces.
std::string TableLine(const std::string& key, const std::vector<std::string>& numbers, size_t key_width) {
  std::string line = PadRight(FitEnd(key, key_width), key_width);
  for (const std::string& cell : numbers) absl::StrAppend(&line, std::string(kGap, ' '), PadLeft(cell, kNumberWidth));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string SidecarLine(const TopScreen& s) {
  std::string line = absl::StrCat("moq-stats top  ", TerminalSafe(s.target));
  if (!s.sidecar.has_value()) return absl::StrCat(line, "  (no answer yet)");
  const TopSidecarInfo& info = *s.sidecar;
  absl::StrAppend(&line, "  sidecar ", TerminalSafe(info.version), "  up ",
                  absl::FormatDuration(absl::Trunc(info.uptime, absl::Seconds(1))));
  if (info.relay_sessions.has_value()) {
    absl::StrAppend(&line, "  ", *info.relay_sessions,
                    *info.relay_sessions == 1 ? " relay session" : " relay sessions");
  }
  if (!info.bridge.empty()) absl::StrAppend(&line, "  bridge: ", TerminalSafe(info.bridge));
  return line;
}

std::string TotalsLine(const TopScreen& s) {
  const TopRates& t = s.totals;
  return absl::StrCat("levels ", s.levels, "  total: viewers ", t.viewers, "  out ", FormatRate(t.out_bits),
                      " b/s  in ", FormatRate(t.in_bits), " b/s  frames ", FormatRate(t.out_frames), "/s");
}

std::string StatusLine(const TopScreen& s, absl::TimeZone zone, bool keys_hint) {
  std::string line = absl::FormatTime("%H:%M:%S", s.now, zone);
  if (!s.error.empty()) {
    return absl::StrCat(line, "  error: ", TerminalSafe(s.error), "; retrying every ",
                        absl::FormatDuration(s.interval));
  }
  absl::StrAppend(&line, "  every ", absl::FormatDuration(s.interval), "  sorted by ", TopSortName(s.sort));
  if (keys_hint) absl::StrAppend(&line, "  (s: sort, q: quit)");
  return line;
}

}  // namespace

size_t TopRowsFitting(size_t height) { return height > kTopHeaderLines ? height - kTopHeaderLines : 0; }

std::string FormatRate(std::optional<double> rate) {
  if (!rate.has_value() || std::isnan(*rate)) return "-";
  const double v = *rate;
  if (v < 0.05) return "0";
  if (v < 9.95) return absl::StrFormat("%.1f", v);
  if (v < 999.5) return absl::StrFormat("%.0f", v);
  static constexpr const char* kPrefixes[] = {"k", "M", "G", "T", "P", "E"};
  double scaled = v;
  for (const char* prefix : kPrefixes) {
    scaled /= 1000;
    // Three significant digits, rounded; a value that rounds up to 1000
    // takes the next prefix.
    if (scaled < 9.995) return absl::StrFormat("%.2f%s", scaled, prefix);
    if (scaled < 99.95) return absl::StrFormat("%.1f%s", scaled, prefix);
    if (scaled < 999.5) return absl::StrFormat("%.0f%s", scaled, prefix);
  }
  return "huge";  // above 999.5E: not a rate a relay reaches
}

std::vector<std::string> RenderTopScreen(const TopScreen& screen, size_t width, size_t height, absl::TimeZone zone) {
  const size_t numbers = std::size(kNumberHeaders) * (kGap + kNumberWidth);
  const size_t key_width = width > numbers + kMinKeyWidth ? width - numbers : kMinKeyWidth;
  std::vector<std::string> lines = {SidecarLine(screen), TotalsLine(screen),
                                    StatusLine(screen, zone, /*keys_hint=*/true), "",
                                    TableLine("KEY", HeaderCells(), key_width)};
  for (const TopRow& row : screen.rows) {
    if (lines.size() >= height) break;
    lines.push_back(TableLine(KeyCell(row.key), NumberCells(row.rates), key_width));
  }
  if (lines.size() > height) lines.resize(height);
  for (std::string& line : lines) line = FitStart(line, width);
  return lines;
}

std::string RenderTopPlain(const TopScreen& screen, absl::TimeZone zone) {
  if (!screen.error.empty()) {
    // Rows of an earlier refresh would pass for this one's: none.
    return absl::StrCat(SidecarLine(screen), "\n", StatusLine(screen, zone, /*keys_hint=*/false), "\n\n");
  }
  size_t key_width = 3;  // "KEY"
  std::vector<std::string> keys;
  keys.reserve(screen.rows.size());
  for (const TopRow& row : screen.rows) {
    keys.push_back(KeyCell(row.key));
    key_width = std::max(key_width, TerminalWidth(keys.back()));
  }
  std::string out =
      absl::StrCat(SidecarLine(screen), "\n", TotalsLine(screen), "\n", StatusLine(screen, zone, /*keys_hint=*/false),
                   "\n", TableLine("KEY", HeaderCells(), key_width), "\n");
  for (size_t i = 0; i < screen.rows.size(); ++i) {
    absl::StrAppend(&out, TableLine(keys[i], NumberCells(screen.rows[i].rates), key_width), "\n");
  }
  out += "\n";
  return out;
}

}  // namespace cli
}  // namespace moq_stats
