#include "origin_bridge/lite/messages.h"

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moq_stats::lite {
namespace {

// gtest's Test::Setup hides the message name inside TEST bodies.
using SetupMessage = ::moq_stats::lite::Setup;

constexpr Version kAllVersions[] = {Version::kLite03, Version::kLite04, Version::kLite05};

// "0c 01 09" -> bytes.
std::string H(const std::string& hex) {
  std::string out;
  int nibbles = 0;
  int byte = 0;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v =
        std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    byte = byte * 16 + v;
    if (++nibbles == 2) {
      out.push_back(static_cast<char>(byte));
      nibbles = 0;
      byte = 0;
    }
  }
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The wire image checked both ways: the struct encodes to exactly `wire`;
// `wire` (with trailing bytes after it) decodes to the struct, taking exactly
// its own bytes; every shorter prefix, and the image fed one and two bytes at
// a time, is NEED_MORE until complete.
template <typename T>
void ExpectWireImage(Version version, const T& message, const std::string& wire) {
  SCOPED_TRACE(std::string(VersionAlpn(version)) + ": " + Hex(wire));
  std::string encoded;
  ASSERT_TRUE(message.Encode(version, &encoded).ok());
  EXPECT_EQ(Hex(encoded), Hex(wire));

  const std::string with_trailer = wire + H("00 ff");
  DecodeResult<T> decoded = T::Decode(version, with_trailer);
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.consumed, wire.size());
  EXPECT_TRUE(decoded.value == message);

  for (size_t step : {1, 2}) {
    std::string buffer;
    for (size_t pos = 0; pos < wire.size(); pos += step) {
      buffer.append(wire.substr(pos, step));
      DecodeResult<T> partial = T::Decode(version, buffer);
      if (buffer.size() < wire.size()) {
        EXPECT_TRUE(partial.need_more()) << "step " << step << " at " << buffer.size() << ": " << partial.reason;
      } else {
        ASSERT_TRUE(partial.ok()) << partial.reason;
        EXPECT_TRUE(partial.value == message);
      }
    }
  }
}

template <typename T>
void ExpectDecodeError(Version version, const std::string& wire, ErrorCode code = ErrorCode::kDecode) {
  SCOPED_TRACE(std::string(VersionAlpn(version)) + ": " + Hex(wire));
  DecodeResult<T> decoded = T::Decode(version, wire);
  ASSERT_TRUE(decoded.error());
  EXPECT_EQ(decoded.code, code);
  EXPECT_FALSE(decoded.reason.empty());
}

template <typename T>
void ExpectNotInVersion(Version version, const T& message) {
  std::string out;
  EXPECT_FALSE(message.Encode(version, &out).ok());
  EXPECT_TRUE(out.empty());
  ExpectDecodeError<T>(version, H("00"));
}

const std::string kBroadcast = "sensors/a";
const std::string kTrack = "data";

TEST(LiteVersionTest, CodesAndAlpn) {
  EXPECT_EQ(static_cast<uint64_t>(Version::kLite03), 0xff0dad03u);
  EXPECT_EQ(static_cast<uint64_t>(Version::kLite05), 0xff0dad05u);
  EXPECT_EQ(VersionAlpn(Version::kLite04), "moq-lite-04");
  EXPECT_EQ(VersionFromCode(0xff0dad05), Version::kLite05);
  EXPECT_FALSE(VersionFromCode(0xff0dad06).has_value());
  EXPECT_EQ(static_cast<uint64_t>(ControlStreamType::kTrack), 6u);
  EXPECT_EQ(static_cast<uint64_t>(DataStreamType::kSetup), 1u);
}

// ---- SETUP

TEST(LiteSetupTest, CapturedOrigin) {
  SetupMessage setup;
  setup.parameters.push_back(SetupMessage::VarintParameter(kSetupParameterOrigin, 0x000e832a2b1799c8));
  ExpectWireImage(Version::kLite05, setup, H("0b 01 05 08 c0 0e 83 2a 2b 17 99 c8"));
  EXPECT_EQ(setup.VarintValue(kSetupParameterOrigin), 0x000e832a2b1799c8u);
  EXPECT_FALSE(setup.VarintValue(kSetupParameterRole).has_value());
}

TEST(LiteSetupTest, EmptyAndSeveral) {
  ExpectWireImage(Version::kLite05, SetupMessage{}, H("01 00"));
  SetupMessage setup;
  setup.parameters.push_back(SetupMessage::VarintParameter(kSetupParameterRole, kSetupRolePublisher));
  setup.parameters.push_back({kSetupParameterPath, "/room"});
  ExpectWireImage(Version::kLite05, setup, H("0b 02 03 01 01 02 05") + "/room");
}

TEST(LiteSetupTest, Errors) {
  ExpectNotInVersion(Version::kLite03, SetupMessage{});
  ExpectNotInVersion(Version::kLite04, SetupMessage{});
  // Duplicate id.
  ExpectDecodeError<SetupMessage>(Version::kLite05, H("07 02 03 01 01 03 01 02"));
  // Count 65 > 64.
  ExpectDecodeError<SetupMessage>(Version::kLite05, H("02 40 41"));
  // Parameter value longer than the body.
  ExpectDecodeError<SetupMessage>(Version::kLite05, H("04 01 05 08 c0"));
  // Length prefix longer / shorter than the fields.
  ExpectDecodeError<SetupMessage>(Version::kLite05, H("02 00 00"));
  ExpectDecodeError<SetupMessage>(Version::kLite05, H("01 01 03 01 01"));
  SetupMessage duplicate;
  duplicate.parameters = {{1, ""}, {1, ""}};
  std::string out;
  EXPECT_FALSE(duplicate.Encode(Version::kLite05, &out).ok());
}

// ---- ANNOUNCE_REQUEST

TEST(LiteAnnounceRequestTest, Captured) {
  const AnnounceRequest request{"", 0x0005171bd9d87e0b};
  const std::string wire = H("09 00 c0 05 17 1b d9 d8 7e 0b");
  ExpectWireImage(Version::kLite05, request, wire);
  ExpectWireImage(Version::kLite04, request, wire);
}

TEST(LiteAnnounceRequestTest, Lite03HasNoExcludeHop) {
  ExpectWireImage(Version::kLite03, AnnounceRequest{"sensors", 0}, H("08 07") + "sensors");
  // A lite-05 image is one body too long for lite-03.
  ExpectDecodeError<AnnounceRequest>(Version::kLite03, H("02 00 07"));
  // And a lite-03 image is too short for lite-05.
  ExpectDecodeError<AnnounceRequest>(Version::kLite05, H("01 00"));
}

TEST(LiteAnnounceRequestTest, NonMinimalVarints) {
  DecodeResult<AnnounceRequest> decoded = AnnounceRequest::Decode(Version::kLite05, H("40 04 40 00 40 07"));
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.consumed, 6u);
  EXPECT_TRUE(decoded.value == (AnnounceRequest{"", 7}));
}

// ---- ANNOUNCE_OK

TEST(LiteAnnounceOkTest, Captured) {
  ExpectWireImage(Version::kLite05, AnnounceOk{0x000e832a2b1799c8, 1}, H("09 c0 0e 83 2a 2b 17 99 c8 01"));
  ExpectWireImage(Version::kLite05, AnnounceOk{7, 0}, H("02 07 00"));
  ExpectNotInVersion(Version::kLite03, AnnounceOk{});
  ExpectNotInVersion(Version::kLite04, AnnounceOk{});
  ExpectDecodeError<AnnounceOk>(Version::kLite05, H("03 07 00 00"));
  ExpectDecodeError<AnnounceOk>(Version::kLite05, H("01 07 00"));
}

// ---- ANNOUNCE

TEST(LiteAnnounceTest, CapturedLeafLite05) {
  ExpectWireImage(Version::kLite05, Announce{AnnounceStatus::kActive, kBroadcast, {}},
                  H("0c 01 09") + kBroadcast + H("00"));
  ExpectWireImage(Version::kLite05, Announce{AnnounceStatus::kEnded, kBroadcast, {}},
                  H("0c 00 09") + kBroadcast + H("00"));
}

TEST(LiteAnnounceTest, HopsPerVersion) {
  ExpectWireImage(Version::kLite04, Announce{AnnounceStatus::kActive, kBroadcast, {7, 0x40}},
                  H("0f 01 09") + kBroadcast + H("02 07 40 40"));
  ExpectWireImage(Version::kLite05, Announce{AnnounceStatus::kActive, kBroadcast, {7}},
                  H("0d 01 09") + kBroadcast + H("01 07"));
  // lite-03 carries the count only.
  ExpectWireImage(Version::kLite03, Announce{AnnounceStatus::kActive, kBroadcast, {0, 0}},
                  H("0c 01 09") + kBroadcast + H("02"));
}

TEST(LiteAnnounceTest, RestartStatus) {
  const std::string restart = H("0c 02 09") + kBroadcast + H("00");
  DecodeResult<Announce> decoded = Announce::Decode(Version::kLite05, restart);
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.value.status, AnnounceStatus::kActive);
  ExpectDecodeError<Announce>(Version::kLite04, restart);
  ExpectDecodeError<Announce>(Version::kLite03, restart);
  ExpectDecodeError<Announce>(Version::kLite05, H("0c 03 09") + kBroadcast + H("00"));
}

TEST(LiteAnnounceTest, Errors) {
  // 33 hops.
  for (Version version : kAllVersions) {
    std::string body = H("01 00 21");
    if (version != Version::kLite03) body += std::string(33, '\x01');
    std::string wire;
    AppendVarint(body.size(), &wire);
    ExpectDecodeError<Announce>(version, wire + body);
  }
  // Suffix longer than the body; invalid UTF-8 suffix.
  ExpectDecodeError<Announce>(Version::kLite05, H("04 01 09 61 00"));
  ExpectDecodeError<Announce>(Version::kLite05, H("04 01 01 ff 00"));
  // Trailing byte inside the length.
  ExpectDecodeError<Announce>(Version::kLite05, H("04 01 00 00 00"));
  Announce too_many{AnnounceStatus::kActive, "", std::vector<uint64_t>(33, 1)};
  std::string out;
  EXPECT_FALSE(too_many.Encode(Version::kLite05, &out).ok());
}

// ---- TRACK / TRACK_INFO

TEST(LiteTrackTest, Captured) {
  ExpectWireImage(Version::kLite05, Track{kBroadcast, kTrack}, H("0f 09") + kBroadcast + H("04") + kTrack);
  ExpectNotInVersion(Version::kLite03, Track{});
  ExpectNotInVersion(Version::kLite04, Track{});
  // Track name length past the body.
  ExpectDecodeError<Track>(Version::kLite05, H("03 00 05 64"));
}

TEST(LiteTrackInfoTest, CapturedDefault) {
  const TrackInfo info{0, false, 5000, 1000};
  ExpectWireImage(Version::kLite05, info, H("06 00 00 53 88 43 e8"));
  ExpectWireImage(Version::kLite05, TrackInfo{2, true, 0, 1}, H("04 02 01 00 01"));
  ExpectNotInVersion(Version::kLite04, info);
}

TEST(LiteTrackInfoTest, Errors) {
  // Length one longer than the body (next byte taken in) and one shorter.
  ExpectDecodeError<TrackInfo>(Version::kLite05, H("07 00 00 53 88 43 e8 00"));
  ExpectDecodeError<TrackInfo>(Version::kLite05, H("05 00 00 53 88 43 e8"));
  // Timescale 0.
  ExpectDecodeError<TrackInfo>(Version::kLite05, H("04 00 00 00 00"));
  std::string out;
  EXPECT_FALSE((TrackInfo{0, false, 0, 0}).Encode(Version::kLite05, &out).ok());
  // Non-minimal length prefix and fields decode to the same struct.
  DecodeResult<TrackInfo> decoded = TrackInfo::Decode(Version::kLite05, H("40 08 00 00 80 00 13 88 43 e8"));
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_TRUE(decoded.value == (TrackInfo{0, false, 5000, 1000}));
  // A nonzero `ordered` byte is true.
  decoded = TrackInfo::Decode(Version::kLite05, H("04 00 07 00 01"));
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_TRUE(decoded.value.ordered);
}

// ---- SUBSCRIBE

TEST(LiteSubscribeTest, CapturedEveryVersion) {
  const Subscribe subscribe{0, kBroadcast, kTrack, 3, false, 0, {}, {}};
  const std::string wire = H("15 00 09") + kBroadcast + H("04") + kTrack + H("03 00 00 00 00");
  for (Version version : kAllVersions) {
    ExpectWireImage(version, subscribe, wire);
  }
}

TEST(LiteSubscribeTest, GroupsAndLatency) {
  const Subscribe subscribe{9, kBroadcast, kTrack, 0x80, true, 100, 0, 0x3f};
  ExpectWireImage(Version::kLite05, subscribe,
                  H("17 09 09") + kBroadcast + H("04") + kTrack + H("80 01 40 64 01 40 40"));
  std::string out;
  Subscribe too_large = subscribe;
  too_large.start_group = kMaxVarint;
  EXPECT_FALSE(too_large.Encode(Version::kLite05, &out).ok());
  too_large.start_group = kMaxVarint - 1;
  EXPECT_TRUE(too_large.Encode(Version::kLite05, &out).ok());
  too_large.id = kMaxVarint + 1;
  EXPECT_FALSE(too_large.Encode(Version::kLite05, &out).ok());
}

TEST(LiteSubscribeTest, NonMinimalAndBadLengths) {
  const std::string body_nonminimal = H("40 00 09") + kBroadcast + H("04") + kTrack + H("03 00 00 00 00");
  DecodeResult<Subscribe> decoded = Subscribe::Decode(Version::kLite05, H("16") + body_nonminimal);
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.consumed, 23u);
  EXPECT_EQ(decoded.value.broadcast, kBroadcast);
  const std::string body = H("00 09") + kBroadcast + H("04") + kTrack + H("03 00 00 00 00");
  ExpectDecodeError<Subscribe>(Version::kLite05, H("16") + body + H("00"));
  ExpectDecodeError<Subscribe>(Version::kLite05, H("14") + body);
  // Broadcast length running past the message.
  ExpectDecodeError<Subscribe>(Version::kLite05, H("03 00 3f 61"));
}

// ---- Subscribe responses

TEST(LiteSubscribeResponseTest, CapturedStart) {
  ExpectWireImage(Version::kLite05, SubscribeStart{0}, H("00 01 00"));
  ExpectWireImage(Version::kLite05, SubscribeStart{0x4000}, H("00 04 80 00 40 00"));
  ExpectNotInVersion(Version::kLite04, SubscribeStart{});
}

TEST(LiteSubscribeResponseTest, EndDropOk) {
  ExpectWireImage(Version::kLite05, SubscribeEnd{7}, H("01 01 07"));
  ExpectNotInVersion(Version::kLite03, SubscribeEnd{});
  ExpectWireImage(Version::kLite05, SubscribeDrop{1, 2, 13}, H("02 03 01 02 0d"));
  ExpectWireImage(Version::kLite04, SubscribeDrop{1, 2, 13}, H("01 03 01 02 0d"));
  ExpectWireImage(Version::kLite03, SubscribeDrop{1, 2, 13}, H("01 03 01 02 0d"));
  const SubscribeOk ok{3, true, 100, {}, 4};
  ExpectWireImage(Version::kLite04, ok, H("00 06 03 01 40 64 00 05"));
  ExpectWireImage(Version::kLite03, ok, H("00 06 03 01 40 64 00 05"));
  std::string out;
  EXPECT_FALSE(ok.Encode(Version::kLite05, &out).ok());
  ExpectDecodeError<SubscribeOk>(Version::kLite05, H("00 00"));
}

TEST(LiteSubscribeResponseTest, WrongTypeAndLengths) {
  ExpectDecodeError<SubscribeStart>(Version::kLite05, H("01 01 00"));
  ExpectDecodeError<SubscribeEnd>(Version::kLite05, H("00 01 00"));
  ExpectDecodeError<SubscribeStart>(Version::kLite05, H("00 02 00 00"));
  ExpectDecodeError<SubscribeStart>(Version::kLite05, H("00 00 00"));
  ExpectDecodeError<SubscribeDrop>(Version::kLite05, H("02 02 01 02 0d"));
  // Type varint alone: need more.
  EXPECT_TRUE(SubscribeStart::Decode(Version::kLite05, H("00")).need_more());
  EXPECT_TRUE(SubscribeStart::Decode(Version::kLite05, H("40")).need_more());
}

TEST(LiteSubscribeResponseTest, DecodeAny) {
  DecodeResult<SubscribeResponse> r = DecodeSubscribeResponse(Version::kLite05, H("00 01 00"));
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_TRUE(std::get<SubscribeStart>(r.value) == SubscribeStart{0});
  r = DecodeSubscribeResponse(Version::kLite05, H("01 01 07"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<SubscribeEnd>(r.value) == SubscribeEnd{7});
  r = DecodeSubscribeResponse(Version::kLite05, H("02 03 01 02 0d"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<SubscribeDrop>(r.value) == (SubscribeDrop{1, 2, 13}));
  r = DecodeSubscribeResponse(Version::kLite04, H("00 06 03 01 40 64 00 05"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<SubscribeOk>(r.value) == (SubscribeOk{3, true, 100, {}, 4}));
  r = DecodeSubscribeResponse(Version::kLite03, H("01 03 01 02 0d"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::holds_alternative<SubscribeDrop>(r.value));
  EXPECT_TRUE(DecodeSubscribeResponse(Version::kLite05, H("03 00")).error());
  EXPECT_TRUE(DecodeSubscribeResponse(Version::kLite04, H("02 00")).error());
  EXPECT_TRUE(DecodeSubscribeResponse(Version::kLite05, H("00 01")).need_more());
  EXPECT_TRUE(DecodeSubscribeResponse(Version::kLite05, H("")).need_more());
}

// ---- SUBSCRIBE_UPDATE

TEST(LiteSubscribeUpdateTest, EveryVersion) {
  const SubscribeUpdate update{3, true, 0, 0, {}};
  for (Version version : kAllVersions) {
    ExpectWireImage(version, update, H("05 03 01 00 01 00"));
  }
  ExpectDecodeError<SubscribeUpdate>(Version::kLite05, H("04 03 01 00 01 00"));
  ExpectDecodeError<SubscribeUpdate>(Version::kLite05, H("06 03 01 00 01 00 00"));
}

// ---- GROUP and frames

TEST(LiteGroupTest, Captured) {
  for (Version version : kAllVersions) {
    ExpectWireImage(version, GroupHeader{0, 0}, H("02 00 00"));
    ExpectWireImage(version, GroupHeader{2, 0x3fff}, H("03 02 7f ff"));
  }
  ExpectDecodeError<GroupHeader>(Version::kLite05, H("01 00"));
  ExpectDecodeError<GroupHeader>(Version::kLite05, H("03 00 00 00"));
}

TEST(LiteFrameTest, CapturedLite05) {
  ExpectWireImage(Version::kLite05, Frame{423, "{\"v\":0}"}, H("43 4e 07") + "{\"v\":0}");
  ExpectWireImage(Version::kLite05, Frame{-1, ""}, H("01 00"));
  ExpectWireImage(Version::kLite05, Frame{0, std::string(64, 'x')}, H("00 40 40") + std::string(64, 'x'));
}

TEST(LiteFrameTest, Lite03And04HaveNoTimestamp) {
  for (Version version : {Version::kLite03, Version::kLite04}) {
    ExpectWireImage(version, Frame{0, "{\"v\":0}"}, H("07") + "{\"v\":0}");
  }
  // Oversized payload length: need more, never an allocation of that size.
  EXPECT_TRUE(Frame::Decode(Version::kLite04, H("ff ff ff ff ff ff ff ff 00")).need_more());
  std::string out;
  EXPECT_FALSE((Frame{int64_t{1} << 61, ""}).Encode(Version::kLite05, &out).ok());
}

// ---- FETCH

TEST(LiteFetchTest, EveryVersion) {
  const Fetch fetch{kBroadcast, kTrack, 0, 5};
  for (Version version : kAllVersions) {
    ExpectWireImage(version, fetch, H("11 09") + kBroadcast + H("04") + kTrack + H("00 05"));
  }
  ExpectDecodeError<Fetch>(Version::kLite05, H("10 09") + kBroadcast + H("04") + kTrack + H("00 05"));
}

// ---- Paths

TEST(LitePathTest, NormalizedBothWays) {
  std::string out;
  ASSERT_TRUE((Track{"/sensors//a/", kTrack}).Encode(Version::kLite05, &out).ok());
  EXPECT_EQ(Hex(out), Hex(H("0f 09") + kBroadcast + H("04") + kTrack));
  DecodeResult<Track> decoded = Track::Decode(Version::kLite05, H("11 0b") + "/sensors/a/" + H("04") + kTrack);
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.value.broadcast, kBroadcast);
}

TEST(LitePathTest, AtMost32Segments) {
  std::string path32;
  for (int i = 0; i < 32; ++i) path32 += i == 0 ? "a" : "/a";
  const std::string path33 = path32 + "/a";
  std::string out;
  EXPECT_TRUE((AnnounceRequest{path32, 0}).Encode(Version::kLite03, &out).ok());
  DecodeResult<AnnounceRequest> decoded = AnnounceRequest::Decode(Version::kLite03, out);
  ASSERT_TRUE(decoded.ok()) << decoded.reason;
  EXPECT_EQ(decoded.value.prefix, path32);
  out.clear();
  EXPECT_FALSE((AnnounceRequest{path33, 0}).Encode(Version::kLite03, &out).ok());
  std::string wire;
  AppendVarint(path33.size() + 1, &wire);
  AppendString(path33, &wire);
  ExpectDecodeError<AnnounceRequest>(Version::kLite03, wire);
}

// ---- Message length prefix beyond any body

TEST(LiteMessagesTest, HugeLengthPrefixNeedsMore) {
  const std::string huge = H("ff ff ff ff ff ff ff ff 00");
  EXPECT_TRUE(Subscribe::Decode(Version::kLite05, huge).need_more());
  EXPECT_TRUE(SetupMessage::Decode(Version::kLite05, huge).need_more());
  EXPECT_TRUE(Announce::Decode(Version::kLite03, huge).need_more());
}

}  // namespace
}  // namespace moq_stats::lite
