// Text from relays and the sidecar made safe for a terminal, and measured
// and cut in columns.

#include "client/cli/terminal_text.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats::cli {
namespace {

TEST(TerminalTextTest, KeepsPlainAndUnicodeText) {
  EXPECT_EQ(TerminalSafe("tv/news-1_a.b"), "tv/news-1_a.b");
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"), "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
}

TEST(TerminalTextTest, EscapesControlsC1BidiInvisiblesBadBytesAndBackslash) {
  EXPECT_EQ(TerminalSafe(std::string("a\x1b[2Jb", 6)), "a\\x1b[2Jb");
  EXPECT_EQ(TerminalSafe(std::string("\t\n\r\0\x7f", 5)), "\\t\\n\\r\\x00\\x7f");
  EXPECT_EQ(TerminalSafe("\xc2\x9b"), "\\u009b");  // C1 CSI
  EXPECT_EQ(TerminalSafe("a\xe2\x80\xae"
                         "b"),
            "a\\u202eb");                                                   // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(TerminalSafe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");  // isolates
  EXPECT_EQ(TerminalSafe("\xe2\x80\x8f"), "\\u200f");                       // RIGHT-TO-LEFT MARK
  EXPECT_EQ(TerminalSafe("\xe2\x80\xa8"), "\\u2028");                       // LINE SEPARATOR
  EXPECT_EQ(TerminalSafe("\xef\xbb\xbf"), "\\ufeff");
  EXPECT_EQ(TerminalSafe("\xf3\xa0\x81\x81"), "\\U000e0041");  // a tag character
  EXPECT_EQ(TerminalSafe("\xff\xc3"), "\\xff\\xc3");           // not UTF-8
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(TerminalSafe("a\\x1b"), "a\\\\x1b");               // an escape cannot be faked
}

TEST(TerminalTextTest, WidthCountsWideAndZeroWidthCharacters) {
  EXPECT_EQ(TerminalWidth("abc"), 3u);
  EXPECT_EQ(TerminalWidth("\xe6\x97\xa5\xe6\x9c\xac"), 4u);  // two CJK ideographs
  EXPECT_EQ(TerminalWidth("e\xcc\x81"), 1u);                 // e + combining acute
  EXPECT_EQ(TerminalWidth("\xf0\x9f\x8e\xac"), 2u);          // an emoji
  EXPECT_EQ(TerminalWidth(""), 0u);
}

TEST(TerminalTextTest, FitStartAndFitEndCutWholeCharacters) {
  EXPECT_EQ(FitStart("abcdef", 6), "abcdef");
  EXPECT_EQ(FitStart("abcdef", 4), "abc\xe2\x80\xa6");
  EXPECT_EQ(FitEnd("abcdef", 4),
            "\xe2\x80\xa6"
            "def");
  EXPECT_EQ(FitStart("abcdef", 0), "");
  // A wide character that does not fit whole is left out, never split.
  EXPECT_EQ(FitStart("a\xe6\x97\xa5\xe6\x9c\xac", 3), "a\xe2\x80\xa6");
  EXPECT_EQ(FitEnd("\xe6\x97\xa5\xe6\x9c\xac"
                   "b",
                   4),
            "\xe2\x80\xa6\xe6\x9c\xac"
            "b");
  // A combining mark is not left at the front to join the ellipsis.
  EXPECT_EQ(FitEnd("xxe\xcc\x81z", 2), "\xe2\x80\xa6z");
  for (size_t w = 0; w < 8; ++w) {
    EXPECT_LE(TerminalWidth(FitStart("a\xe6\x97\xa5"
                                     "bc\xe6\x9c\xac",
                                     w)),
              w);
    EXPECT_LE(TerminalWidth(FitEnd("a\xe6\x97\xa5"
                                   "bc\xe6\x9c\xac",
                                   w)),
              w);
  }
}

}  // namespace
}  // namespace moq_stats::cli
