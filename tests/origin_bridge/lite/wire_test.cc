#include "origin_bridge/lite/wire.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "origin_bridge/lite/messages.h"

namespace moq_stats::lite {
namespace {

std::string Bytes(std::vector<uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

struct VarintCase {
  uint64_t value;
  std::vector<uint8_t> wire;
};

// RFC 9000 boundaries, plus the RFC's own examples.
const VarintCase kVarintCases[] = {
    {0, {0x00}},
    {0x3f, {0x3f}},
    {0x40, {0x40, 0x40}},
    {0x3fff, {0x7f, 0xff}},
    {0x4000, {0x80, 0x00, 0x40, 0x00}},
    {0x3fffffff, {0xbf, 0xff, 0xff, 0xff}},
    {0x40000000, {0xc0, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00}},
    {kMaxVarint, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
    {37, {0x25}},
    {15293, {0x7b, 0xbd}},
    {494878333, {0x9d, 0x7f, 0x3e, 0x7d}},
    {151288809941952652, {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}},
};

TEST(WireVarintTest, EncodesMinimally) {
  for (const VarintCase& c : kVarintCases) {
    std::string out;
    ASSERT_TRUE(AppendVarint(c.value, &out)) << c.value;
    EXPECT_EQ(out, Bytes(c.wire)) << c.value;
    EXPECT_EQ(VarintSize(c.value), c.wire.size()) << c.value;
  }
}

TEST(WireVarintTest, Decodes) {
  for (const VarintCase& c : kVarintCases) {
    std::string wire = Bytes(c.wire) + "x";
    WireReader reader(wire);
    uint64_t value = 0;
    ASSERT_EQ(reader.ReadVarint(&value), ReadStatus::kOk) << c.value;
    EXPECT_EQ(value, c.value);
    EXPECT_EQ(reader.consumed(), c.wire.size());
  }
}

TEST(WireVarintTest, TruncatedNeedsMore) {
  for (const VarintCase& c : kVarintCases) {
    std::string wire = Bytes(c.wire);
    for (size_t n = 0; n < wire.size(); ++n) {
      WireReader reader(std::string_view(wire).substr(0, n));
      uint64_t value = 0;
      EXPECT_EQ(reader.ReadVarint(&value), ReadStatus::kNeedMore) << c.value << " cut at " << n;
      EXPECT_EQ(reader.consumed(), 0u);
    }
  }
}

TEST(WireVarintTest, NonMinimalAccepted) {
  const std::vector<uint8_t> encodings[] = {
      {0x40, 0x05},
      {0x80, 0x00, 0x00, 0x05},
      {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05},
  };
  for (const auto& e : encodings) {
    std::string wire = Bytes(e);
    WireReader reader(wire);
    uint64_t value = 0;
    ASSERT_EQ(reader.ReadVarint(&value), ReadStatus::kOk);
    EXPECT_EQ(value, 5u);
    EXPECT_EQ(reader.consumed(), e.size());
  }
}

TEST(WireVarintTest, TooLargeRejected) {
  std::string out;
  EXPECT_FALSE(AppendVarint(kMaxVarint + 1, &out));
  EXPECT_FALSE(AppendVarint(UINT64_MAX, &out));
  EXPECT_TRUE(out.empty());
}

TEST(WireU8Test, ReadsRaw) {
  std::string wire = Bytes({0xff});
  WireReader reader(wire);
  uint8_t value = 0;
  ASSERT_EQ(reader.ReadU8(&value), ReadStatus::kOk);
  EXPECT_EQ(value, 0xff);
  EXPECT_EQ(reader.ReadU8(&value), ReadStatus::kNeedMore);
}

TEST(WireStringTest, RoundTrip) {
  std::string out;
  AppendString("data", &out);
  EXPECT_EQ(out, Bytes({0x04, 'd', 'a', 't', 'a'}));
  WireReader reader(out);
  std::string_view value;
  ASSERT_EQ(reader.ReadString(&value), ReadStatus::kOk);
  EXPECT_EQ(value, "data");
  EXPECT_TRUE(reader.empty());
}

TEST(WireStringTest, EmptyString) {
  std::string wire = Bytes({0x00});
  WireReader reader(wire);
  std::string_view value = "x";
  ASSERT_EQ(reader.ReadString(&value), ReadStatus::kOk);
  EXPECT_EQ(value, "");
}

TEST(WireStringTest, NonMinimalLength) {
  std::string wire = Bytes({0x40, 0x02, 'o', 'k'});
  WireReader reader(wire);
  std::string_view value;
  ASSERT_EQ(reader.ReadString(&value), ReadStatus::kOk);
  EXPECT_EQ(value, "ok");
}

TEST(WireStringTest, OversizedLengthNeedsMoreAndRewinds) {
  // Length 5 with 4 bytes present, and a length of 2^62-1.
  for (const std::string& wire :
       {Bytes({0x05, 'd', 'a', 't', 'a'}), Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a'})}) {
    WireReader reader(wire);
    std::string_view value;
    EXPECT_EQ(reader.ReadString(&value), ReadStatus::kNeedMore);
    EXPECT_EQ(reader.consumed(), 0u);
  }
}

TEST(WireStringTest, InvalidUtf8IsError) {
  for (const std::string& wire : {Bytes({0x01, 0xff}), Bytes({0x02, 0xc0, 0x80}),  // overlong
                                  Bytes({0x03, 0xed, 0xa0, 0x80}),                 // surrogate
                                  Bytes({0x01, 0xc3})}) {                          // cut sequence
    WireReader reader(wire);
    std::string_view value;
    EXPECT_EQ(reader.ReadString(&value), ReadStatus::kError);
    EXPECT_FALSE(reader.error().empty());
  }
  // ReadBytes takes any content.
  std::string wire = Bytes({0x01, 0xff});
  WireReader reader(wire);
  std::string_view value;
  EXPECT_EQ(reader.ReadBytes(&value), ReadStatus::kOk);
}

// A length-prefixed message body made of `fields`, each a string.
std::string MessageOfStrings(std::initializer_list<std::string_view> fields) {
  std::string body;
  for (std::string_view field : fields) AppendString(field, &body);
  std::string wire;
  EXPECT_TRUE(AppendVarint(body.size(), &wire));
  return wire + body;
}

// Paths read from the wire come out normalised as moq_stats::Path
// normalises: leading and trailing '/' trimmed, runs of '/' collapsed to one.
TEST(WirePathTest, Normalizes) {
  const std::pair<std::string, std::string> cases[] = {
      {"sensors/a", "sensors/a"},
      {"/sensors/a", "sensors/a"},
      {"sensors/a/", "sensors/a"},
      {"sensors//a", "sensors/a"},
      {"//sensors///a//", "sensors/a"},
      {"/", ""},
      {"///", ""},
      {"", ""},
  };
  for (const auto& [raw, normalised] : cases) {
    SCOPED_TRACE(raw);
    // ANNOUNCE_REQUEST's prefix (lite-03: the prefix is the whole body).
    DecodeResult<AnnounceRequest> request = AnnounceRequest::Decode(Version::kLite03, MessageOfStrings({raw}));
    ASSERT_TRUE(request.ok()) << request.reason;
    EXPECT_EQ(request.value.prefix, normalised);
    // TRACK's broadcast; the track name is not a path and is kept as sent.
    DecodeResult<Track> track = Track::Decode(Version::kLite05, MessageOfStrings({raw, "/t//"}));
    ASSERT_TRUE(track.ok()) << track.reason;
    EXPECT_EQ(track.value.broadcast, normalised);
    EXPECT_EQ(track.value.track, "/t//");
  }
}

TEST(WireLengthPrefixedTest, BodyAndNeedMore) {
  std::string wire = Bytes({0x02, 0x00, 0x00, 0x07});
  WireReader reader(wire);
  std::string_view body;
  ASSERT_EQ(reader.ReadLengthPrefixed(&body), ReadStatus::kOk);
  EXPECT_EQ(body, Bytes({0x00, 0x00}));
  EXPECT_EQ(reader.consumed(), 3u);

  WireReader short_reader(std::string_view(wire).substr(0, 2));
  EXPECT_EQ(short_reader.ReadLengthPrefixed(&body), ReadStatus::kNeedMore);
}

TEST(WireZigzagTest, MapsAndRoundTrips) {
  const std::pair<int64_t, uint64_t> cases[] = {{0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {2, 4}, {423, 846}};
  for (const auto& [signed_value, unsigned_value] : cases) {
    uint64_t out = 0;
    ASSERT_TRUE(ZigzagEncode(signed_value, &out));
    EXPECT_EQ(out, unsigned_value);
    EXPECT_EQ(ZigzagDecode(unsigned_value), signed_value);
  }
  const int64_t range = int64_t{1} << 61;
  uint64_t out = 0;
  EXPECT_TRUE(ZigzagEncode(range - 1, &out));
  EXPECT_EQ(out, kMaxVarint - 1);
  EXPECT_TRUE(ZigzagEncode(-range, &out));
  EXPECT_EQ(out, kMaxVarint);
  EXPECT_FALSE(ZigzagEncode(range, &out));
  EXPECT_FALSE(ZigzagEncode(-range - 1, &out));
}

}  // namespace
}  // namespace moq_stats::lite
