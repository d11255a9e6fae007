#include "common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats {
namespace {

TEST(Utf8Test, ValidAndInvalidSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x93\x88"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // cut off
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Utf8Test, PrintableTextKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(PrintableText("relay going away"), "relay going away");
  EXPECT_EQ(PrintableText("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(PrintableText("a\nb\rc\x7f"), "a\\x0ab\\x0dc\\x7f");
  EXPECT_EQ(PrintableText(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(PrintableText("\xff\xc3"), "\\xff\\xc3");
  EXPECT_TRUE(IsValidUtf8(PrintableText("\xff\xfe\xc3(\xed\xa0\x80")));
}

TEST(Utf8Test, PrintableTextCutsAtAPieceBoundary) {
  EXPECT_EQ(PrintableText("abcdef", 6), "abcdef");
  EXPECT_EQ(PrintableText("abcdefg", 6), "abc...");
  // An escape or a character is never split.
  EXPECT_EQ(PrintableText("ab\ncdef", 7), "ab...");
  EXPECT_EQ(PrintableText("ab\xc3\xa9\xc3\xa9xyz", 7), "ab\xc3\xa9...");
  EXPECT_EQ(PrintableText("abcdef", 2), "");
  EXPECT_LE(PrintableText(std::string(10000, '\x01')).size(), 256u);
}

}  // namespace
}  // namespace moq_stats
