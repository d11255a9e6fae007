// `moq-stats top`'s view: rate formatting, the screen's size limits (width,
// height, keys cut keeping their end), escaping of relay-chosen keys and of
// the sidecar's texts, and the plain lines for a pipe.

#include "client/cli/top_view.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/cli/terminal_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 08:00:00 UTC

TopRow Row(std::string key, uint64_t viewers, std::optional<double> out_bits) {
  TopRow row;
  row.key = std::move(key);
  row.rates.viewers = viewers;
  row.rates.out_bits = out_bits;
  row.rates.in_bits = 0;
  row.rates.out_frames = 30;
  return row;
}

TopScreen Screen(std::vector<TopRow> rows) {
  TopScreen s;
  s.target = "unix:moq-stats.sock";
  s.now = kNow;
  s.interval = absl::Seconds(1);
  s.sidecar = TopSidecarInfo{"1.2.3", absl::Seconds(3725.7), 2, "dial off, serve 1 session"};
  s.levels = rows.size() + 1;
  s.totals.viewers = 9;
  s.totals.out_bits = 4.5e6;
  s.rows = std::move(rows);
  return s;
}

TEST(TopViewTest, FormatRate) {
  EXPECT_EQ(FormatRate(std::nullopt), "-");
  EXPECT_EQ(FormatRate(0.0), "0");
  EXPECT_EQ(FormatRate(0.04), "0");
  EXPECT_EQ(FormatRate(0.5), "0.5");
  EXPECT_EQ(FormatRate(2.54), "2.5");
  EXPECT_EQ(FormatRate(9.96), "10");
  EXPECT_EQ(FormatRate(850), "850");
  EXPECT_EQ(FormatRate(999.4), "999");
  EXPECT_EQ(FormatRate(999.6), "1.00k");
  EXPECT_EQ(FormatRate(12'345), "12.3k");
  EXPECT_EQ(FormatRate(1'204'000), "1.20M");
  EXPECT_EQ(FormatRate(999'600'000), "1.00G");
  EXPECT_EQ(FormatRate(3e9), "3.00G");
  EXPECT_EQ(FormatRate(123e15), "123P");
}

TEST(TopViewTest, ScreenHasTheSidecarTotalsStatusAndSortedRows) {
  std::vector<std::string> lines =
      RenderTopScreen(Screen({Row("tv/news", 7, 4e6), Row("tv/sport", 2, 5e5)}), 120, 24, absl::UTCTimeZone());
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0],
            "moq-stats top  unix:moq-stats.sock  sidecar 1.2.3  up 1h2m5s  2 relay sessions  bridge: dial off, serve 1 "
            "session");
  EXPECT_EQ(lines[1], "levels 3  total: viewers 9  out 4.50M b/s  in - b/s  frames -/s");
  EXPECT_EQ(lines[2], "08:00:00  every 1s  sorted by bitrate  (s: sort, q: quit)");
  EXPECT_EQ(lines[3], "");
  // The key column takes what the four numeric columns (10 each) leave.
  EXPECT_EQ(lines[4], std::string("KEY") + std::string(77, ' ') + "   VIEWERS   OUT b/s    IN b/s  FRAMES/s");
  EXPECT_EQ(lines[5], std::string("tv/news") + std::string(73, ' ') + "         7     4.00M         0        30");
  EXPECT_EQ(lines[6], std::string("tv/sport") + std::string(72, ' ') + "         2      500k         0        30");
  // A narrower screen cuts the status lines, keeping their start.
  EXPECT_EQ(RenderTopScreen(Screen({}), 40, 24, absl::UTCTimeZone())[0],
            "moq-stats top  unix:moq-stats.sock  sid\xe2\x80\xa6");
}

TEST(TopViewTest, ScreenFitsWidthAndHeight) {
  std::vector<TopRow> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(Row("level/" + std::to_string(i), 0, 0.0));
  const TopScreen screen = Screen(rows);
  for (size_t width : {20u, 49u, 60u, 132u}) {
    for (size_t height : {1u, 3u, 6u, 10u, 40u}) {
      std::vector<std::string> lines = RenderTopScreen(screen, width, height, absl::UTCTimeZone());
      EXPECT_EQ(lines.size(), std::min<size_t>(height, kTopHeaderLines + rows.size())) << width << "x" << height;
      for (const std::string& line : lines) EXPECT_LE(TerminalWidth(line), width) << line;
    }
  }
  EXPECT_EQ(TopRowsFitting(24), 19u);
  EXPECT_EQ(TopRowsFitting(5), 0u);
  EXPECT_EQ(TopRowsFitting(2), 0u);
}

TEST(TopViewTest, LongKeyKeepsItsEnd) {
  const std::string key = "customers/acme/region-eu-west/live/channel-0042";
  std::vector<std::string> lines = RenderTopScreen(Screen({Row(key, 1, 1e3)}), 60, 24, absl::UTCTimeZone());
  ASSERT_EQ(lines.size(), 6u);
  // 60 columns less 40 of numbers: 20 for the key, "…" and its last 19.
  EXPECT_THAT(lines[5], StartsWith("\xe2\x80\xa6" + key.substr(key.size() - 19) + "  "));
  EXPECT_EQ(TerminalWidth(lines[5]), 60u);
}

TEST(TopViewTest, RelayChosenKeysAndSidecarTextsAreEscaped) {
  // A key that would clear the screen, move the cursor, and reverse the
  // rest of the line with a right-to-left override.
  TopScreen screen = Screen({Row("evil/\x1b[2J\x1b[H\r\xe2\x80\xaetxt.exe", 1, 1e3)});
  screen.sidecar->version = "1.0\x07";
  screen.sidecar->bridge =
      "dial \x9b"
      "31m";  // a lone byte that is not UTF-8
  for (const std::string& line : RenderTopScreen(screen, 200, 24, absl::UTCTimeZone())) {
    EXPECT_THAT(line, Not(HasSubstr("\x1b")));
    EXPECT_THAT(line, Not(HasSubstr("\r")));
    EXPECT_THAT(line, Not(HasSubstr("\x07")));
    EXPECT_THAT(line, Not(HasSubstr("\xe2\x80\xae")));
  }
  const std::vector<std::string> lines = RenderTopScreen(screen, 200, 24, absl::UTCTimeZone());
  EXPECT_THAT(lines[5], StartsWith("evil/\\x1b[2J\\x1b[H\\r\\u202etxt.exe "));
  EXPECT_THAT(lines[0], HasSubstr("sidecar 1.0\\x07"));
  EXPECT_THAT(lines[0], HasSubstr("bridge: dial \\x9b31m"));

  const std::string plain = RenderTopPlain(screen, absl::UTCTimeZone());
  EXPECT_THAT(plain, Not(HasSubstr("\x1b")));
  EXPECT_THAT(plain, HasSubstr("evil/\\x1b[2J\\x1b[H\\r\\u202etxt.exe"));
}

TEST(TopViewTest, ErrorReplacesTheStatusAndNoAnswerYetIsSaid) {
  TopScreen screen = Screen({});
  screen.sidecar.reset();
  screen.error = "cannot reach the sidecar at unix:x: UNAVAILABLE: \x1b[31mno";
  std::vector<std::string> lines = RenderTopScreen(screen, 200, 24, absl::UTCTimeZone());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "moq-stats top  unix:moq-stats.sock  (no answer yet)");
  EXPECT_EQ(lines[2],
            "08:00:00  error: cannot reach the sidecar at unix:x: UNAVAILABLE: \\x1b[31mno; retrying every 1s");
}

TEST(TopViewTest, PlainAfterAFailedReadShowsTheErrorAndNoRows) {
  TopScreen screen = Screen({Row("tv/news", 7, 4e6)});
  screen.error = "GetInfo failed";
  EXPECT_EQ(RenderTopPlain(screen, absl::UTCTimeZone()),
            "moq-stats top  unix:moq-stats.sock  sidecar 1.2.3  up 1h2m5s  2 relay sessions  bridge: dial off, serve 1 "
            "session\n"
            "08:00:00  error: GetInfo failed; retrying every 1s\n"
            "\n");
}

TEST(TopViewTest, ViewersSortIsNamedAndSingularSession) {
  TopScreen screen = Screen({});
  screen.sort = TopSort::kViewers;
  screen.sidecar->relay_sessions = 1;
  std::vector<std::string> lines = RenderTopScreen(screen, 200, 24, absl::UTCTimeZone());
  EXPECT_THAT(lines[0], HasSubstr("  1 relay session  "));
  EXPECT_THAT(lines[2], HasSubstr("sorted by viewers"));
  screen.sidecar->relay_sessions.reset();
  EXPECT_THAT(RenderTopScreen(screen, 200, 24, absl::UTCTimeZone())[0], Not(HasSubstr("relay session")));
}

TEST(TopViewTest, PlainHasEveryRowColumnsAsWideAsTheWidestKeyAndNoKeysHint) {
  const std::string plain =
      RenderTopPlain(Screen({Row("a", 3, 8e3), Row("tv/sport/final", 0, std::nullopt)}), absl::UTCTimeZone());
  EXPECT_EQ(plain,
            "moq-stats top  unix:moq-stats.sock  sidecar 1.2.3  up 1h2m5s  2 relay sessions  bridge: dial off, serve 1 "
            "session\n"
            "levels 3  total: viewers 9  out 4.50M b/s  in - b/s  frames -/s\n"
            "08:00:00  every 1s  sorted by bitrate\n"
            "KEY              VIEWERS   OUT b/s    IN b/s  FRAMES/s\n"
            "a                      3     8.00k         0        30\n"
            "tv/sport/final         0         -         0        30\n"
            "\n");
}

}  // namespace
}  // namespace moq_stats::cli
