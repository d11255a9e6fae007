#include "origin_bridge/qmux/varint.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats::qmux {
namespace {

struct Case {
  uint64_t value;
  std::string wire;
};

// Boundary values and their minimal encodings (RFC 9000 section 16 and A.1).
const Case kCases[] = {
    {0, std::string("\x00", 1)},
    {0x3f, "\x3f"},
    {0x40, "\x40\x40"},
    {0x3fff, "\x7f\xff"},
    {0x4000, std::string("\x80\x00\x40\x00", 4)},
    {0x3fffffff, "\xbf\xff\xff\xff"},
    {0x40000000, std::string("\xc0\x00\x00\x00\x40\x00\x00\x00", 8)},
    {kMaxVarint, "\xff\xff\xff\xff\xff\xff\xff\xff"},
    // RFC 9000 A.1 examples.
    {151288809941952652, "\xc2\x19\x7c\x5e\xff\x14\xe8\x8c"},
    {494878333, "\x9d\x7f\x3e\x7d"},
    {15293, "\x7b\xbd"},
    {37, "\x25"},
};

TEST(QmuxVarintTest, BoundaryValuesBothWays) {
  for (const Case& c : kCases) {
    std::string out;
    ASSERT_TRUE(AppendVarint(c.value, &out)) << c.value;
    EXPECT_EQ(out, c.wire) << c.value;
    EXPECT_EQ(VarintLength(c.value), c.wire.size());
    const VarintRead read = ReadVarint(c.wire);
    EXPECT_TRUE(read.complete);
    EXPECT_EQ(read.value, c.value);
    EXPECT_EQ(read.length, c.wire.size());
  }
}

TEST(QmuxVarintTest, TooLargeIsRefused) {
  std::string out = "x";
  EXPECT_FALSE(AppendVarint(kMaxVarint + 1, &out));
  EXPECT_EQ(out, "x");
  EXPECT_EQ(VarintLength(kMaxVarint + 1), 0u);
}

TEST(QmuxVarintTest, NonMinimalEncodingsDecodeWithTheirLength) {
  // 37 in two bytes (RFC 9000 A.1), and 0 / 0x3f in four and eight.
  VarintRead read = ReadVarint("\x40\x25");
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.value, 37u);
  EXPECT_EQ(read.length, 2u);
  read = ReadVarint(std::string("\x80\x00\x00\x00", 4));
  EXPECT_EQ(read.value, 0u);
  EXPECT_EQ(read.length, 4u);
  read = ReadVarint(std::string("\xc0\x00\x00\x00\x00\x00\x00\x3f", 8));
  EXPECT_EQ(read.value, 0x3fu);
  EXPECT_EQ(read.length, 8u);

  std::string out;
  ASSERT_TRUE(AppendVarintWithLength(0x3f, 8, &out));
  EXPECT_EQ(out, std::string("\xc0\x00\x00\x00\x00\x00\x00\x3f", 8));
  EXPECT_FALSE(AppendVarintWithLength(0x40, 1, &out));
  EXPECT_FALSE(AppendVarintWithLength(1, 3, &out));
}

TEST(QmuxVarintTest, TruncatedNeedsMore) {
  for (const Case& c : kCases) {
    for (size_t n = 0; n < c.wire.size(); ++n) {
      const VarintRead read = ReadVarint(std::string_view(c.wire).substr(0, n));
      EXPECT_FALSE(read.complete) << c.value << " cut at " << n;
      if (n > 0) {
        EXPECT_EQ(read.length, c.wire.size());
      }
    }
  }
}

TEST(QmuxVarintTest, TrailingBytesAreLeftAlone) {
  const VarintRead read = ReadVarint("\x40\x40\xff");
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.value, 0x40u);
  EXPECT_EQ(read.length, 2u);
}

}  // namespace
}  // namespace moq_stats::qmux
