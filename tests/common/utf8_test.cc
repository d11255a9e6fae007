#include "common/utf8.h"

#include <initializer_list>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace moq_stats {
namespace {

// Bytes from integers, so that invalid UTF-8 can be spelled out exactly.
std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// --- IsValidUtf8 -------------------------------------------------------------

TEST(Utf8Test, ValidAndInvalidSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x93\x88"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // cut off
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(IsValidUtf8Test, AcceptsAscii) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("hello/world"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("\0", 1)));
  EXPECT_TRUE(IsValidUtf8(Bytes({0x7F})));
}

TEST(IsValidUtf8Test, AcceptsMultiByteSequences) {
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9"));          // é U+00E9
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));      // € U+20AC
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // 😀 U+1F600
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC\xF0\x9F\x98\x80!"));
}

TEST(IsValidUtf8Test, AcceptsBoundaryCodePoints) {
  EXPECT_TRUE(IsValidUtf8(Bytes({0xC2, 0x80})));              // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8(Bytes({0xDF, 0xBF})));              // U+07FF, largest 2-byte
  EXPECT_TRUE(IsValidUtf8(Bytes({0xE0, 0xA0, 0x80})));        // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8(Bytes({0xED, 0x9F, 0xBF})));        // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8(Bytes({0xEE, 0x80, 0x80})));        // U+E000, just above surrogates
  EXPECT_TRUE(IsValidUtf8(Bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
  EXPECT_TRUE(IsValidUtf8(Bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8(Bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF, largest
}

TEST(IsValidUtf8Test, RefusesOverlongForms) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0xC0, 0x80})));              // NUL in 2 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xC0, 0xAF})));              // '/' in 2 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xC1, 0xBF})));              // U+007F in 2 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xE0, 0x80, 0x80})));        // NUL in 3 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xE0, 0x9F, 0xBF})));        // U+07FF in 3 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF0, 0x80, 0x80, 0x80})));  // NUL in 4 bytes
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8Test, RefusesSurrogates) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0xED, 0xA0, 0x80})));  // U+D800
  EXPECT_FALSE(IsValidUtf8(Bytes({0xED, 0xBF, 0xBF})));  // U+DFFF
  // A UTF-16 surrogate pair encoded as two 3-byte sequences (CESU-8).
  EXPECT_FALSE(IsValidUtf8(Bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(IsValidUtf8Test, RefusesAboveMaxCodePoint) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF7, 0xBF, 0xBF, 0xBF})));
}

TEST(IsValidUtf8Test, RefusesTruncatedSequences) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0xC3})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xE2, 0x82})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xE2})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF0, 0x9F, 0x98})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF0, 0x9F})));
  // Truncated in the middle of a string: the next byte is not a continuation.
  EXPECT_FALSE(IsValidUtf8("a" + Bytes({0xC3}) + "b"));
  EXPECT_FALSE(IsValidUtf8("a" + Bytes({0xE2, 0x82}) + "b"));
  EXPECT_FALSE(IsValidUtf8("a" + Bytes({0xF0, 0x9F, 0x98}) + "b"));
  // A valid sequence followed by a truncated one.
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9" + Bytes({0xF0, 0x9F, 0x98})));
}

TEST(IsValidUtf8Test, ReadsNoFurtherThanTheViewEnds) {
  // The view ends inside a sequence whose remaining bytes sit, valid, in
  // memory just past it; they are not part of the input.
  const std::string buffer = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  EXPECT_TRUE(IsValidUtf8(buffer));
  EXPECT_FALSE(IsValidUtf8(std::string_view(buffer.data(), 3)));   // ab + C3
  EXPECT_FALSE(IsValidUtf8(std::string_view(buffer.data(), 5)));   // ... + E2
  EXPECT_FALSE(IsValidUtf8(std::string_view(buffer.data(), 6)));   // ... + E2 82
  EXPECT_FALSE(IsValidUtf8(std::string_view(buffer.data(), 8)));   // ... + F0
  EXPECT_FALSE(IsValidUtf8(std::string_view(buffer.data(), 10)));  // ... + F0 9F 98
  EXPECT_TRUE(IsValidUtf8(std::string_view(buffer.data(), 7)));    // whole sequences only
}

TEST(IsValidUtf8Test, RefusesStrayContinuationBytes) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0x80})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xBF})));
  EXPECT_FALSE(IsValidUtf8("a" + Bytes({0x80}) + "b"));
  // One continuation byte too many after a complete sequence.
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9" + Bytes({0xA9})));
}

TEST(IsValidUtf8Test, RefusesNeverValidBytes) {
  EXPECT_FALSE(IsValidUtf8(Bytes({0xFF})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xFE})));
  EXPECT_FALSE(IsValidUtf8(Bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));  // old 5-byte form
  EXPECT_FALSE(IsValidUtf8("abc" + Bytes({0xFF})));
}

TEST(IsValidUtf8Test, PathAndMultiByteText) {
  EXPECT_TRUE(IsValidUtf8("sensors/a"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

// --- PrintableText ------------------------------------------------------------

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
