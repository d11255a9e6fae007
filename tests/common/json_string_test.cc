#include "common/json_string.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats {
namespace {

std::string Escaped(const std::string& s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(JsonStringTest, EscapesAsSerdeJson) {
  EXPECT_EQ(Escaped("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Escaped("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Escaped(std::string("\x00\x1f", 2)), R"("\u0000\u001f")");
  EXPECT_EQ(Escaped("\x7f/caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"\x7f/caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

TEST(JsonStringTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(Escaped("a\xff"
                    "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(Escaped("\xc3"), R"("\ufffd")");                      // cut off
  EXPECT_EQ(Escaped("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a surrogate
  EXPECT_EQ(Escaped("\xc0\x80"), R"("\ufffd\ufffd")");            // overlong
}

}  // namespace
}  // namespace moq_stats
