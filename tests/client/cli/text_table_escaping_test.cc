// What a table shows of relay-chosen text: every cell through TerminalSafe
// (control, bidi and invisible characters escaped), padded by what is shown.

#include "client/cli/terminal_text.h"

#include <string>

#include "client/cli/text_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace cli {
namespace {

TEST(TableEscapingTest, PlainTextAndOtherUnicodeAreKept) {
  EXPECT_EQ(TerminalSafe(""), "");
  EXPECT_EQ(TerminalSafe("live/room-1/cam.hd"), "live/room-1/cam.hd");
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x8e\xa5"),
            "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x8e\xa5");
  // Right-to-left letters are text, not controls.
  EXPECT_EQ(TerminalSafe("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"), "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
}

TEST(TableEscapingTest, ControlCharactersAndDelAreEscaped) {
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb"), "a\\x1b[2Jb");                 // clear screen
  EXPECT_EQ(TerminalSafe("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");  // window title
  EXPECT_EQ(TerminalSafe("a\rb\nc\td"), "a\\rb\\nc\\td");
  EXPECT_EQ(TerminalSafe(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(TerminalSafe("a\x7f"), "a\\x7f");
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "2J"),
            "\\u009b2J");  // C1 CSI
  EXPECT_EQ(TerminalSafe("\xc2\x85"), "\\u0085");
}

TEST(TableEscapingTest, BidiOverridesIsolatesAndMarksAreEscaped) {
  EXPECT_EQ(TerminalSafe("live/\xe2\x80\xae"
                         "gpj.exe"),
            "live/\\u202egpj.exe");  // RLO
  const char* const kBidi[] = {"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
                               "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",
                               "\xe2\x81\xa9", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c"};
  const char* const kEscaped[] = {"\\u202a", "\\u202b", "\\u202c", "\\u202d", "\\u202e", "\\u2066",
                                  "\\u2067", "\\u2068", "\\u2069", "\\u200e", "\\u200f", "\\u061c"};
  for (size_t i = 0; i < std::size(kBidi); ++i) {
    SCOPED_TRACE(kEscaped[i]);
    EXPECT_EQ(TerminalSafe(std::string("x") + kBidi[i] + "y"), std::string("x") + kEscaped[i] + "y");
  }
  // Neighbours of the ranges are ordinary characters.
  EXPECT_EQ(TerminalSafe("\xe2\x80\xaf"), "\xe2\x80\xaf");  // U+202F narrow no-break space
  EXPECT_EQ(TerminalSafe("\xe2\x80\x8d"), "\xe2\x80\x8d");  // U+200D zero width joiner
}

TEST(TableEscapingTest, BackslashesAndBytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(TerminalSafe("a\\x1b"), "a\\\\x1b");  // cannot pass for an escape
  EXPECT_EQ(TerminalSafe("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(TerminalSafe("\xe2\x80"), "\\xe2\\x80");           // cut-off sequence
  EXPECT_EQ(TerminalSafe("\xc0\xae"), "\\xc0\\xae");           // overlong '.'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(TableEscapingTest, TableCellsAreEscapedAndPaddedByWhatIsShown) {
  TextTable table({{"PATH"}, {"N", TextTable::Align::kRight}});
  table.AddRow({"a\x1b[31m", "1"});
  table.AddRow(
      {"\xe2\x80\xae"
       "b",
       "22"});
  EXPECT_EQ(table.Render(),
            "PATH        N\n"
            "a\\x1b[31m   1\n"
            "\\u202eb    22\n");
}

}  // namespace
}  // namespace cli
}  // namespace moq_stats
