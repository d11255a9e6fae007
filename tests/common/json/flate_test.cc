#include "common/json/flate.h"

#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::json {
namespace {

using ::testing::HasSubstr;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }
std::string Bytes(const std::string& hex) { return absl::HexStringToBytes(hex); }

std::string MustFrame(FlateEncoder& encoder, std::string_view payload) {
  absl::StatusOr<std::string> frame = encoder.Frame(payload);
  EXPECT_TRUE(frame.ok()) << frame.status();
  return frame.ok() ? *frame : "";
}

// The worked example of the node-format notes (§2.2): one group of a
// sessions track, as @moq/json 0.3.3 (pako) compressed it.
struct WireFrame {
  const char* json;
  const char* hex;
};
constexpr WireFrame kSessionsGroup[] = {
    {R"({"acme":{"sessions":1,"sessions_closed":0}})",
     "aa564a4cce4d55b2aa562a4e2d2ececccf2b56b232d48173e29373f28b535394ac0c6a6b0100"},
    {R"({"acme":{"sessions":2}})", "aac6a2d4a8b61600"},
    {R"({"globex":{"sessions":1,"sessions_closed":0}})", "aa564acfc94f4aad20ca0c0000"},
    {R"({"acme":null})", "829991579a93530b00"},
};

TEST(FlateWireTest, EncodesTheWorkedGroupByteForByte) {
  FlateEncoder encoder;
  for (const WireFrame& frame : kSessionsGroup) EXPECT_EQ(Hex(MustFrame(encoder, frame.json)), frame.hex) << frame.json;
}

TEST(FlateWireTest, DecodesTheWorkedGroup) {
  FlateDecoder decoder;
  for (const WireFrame& frame : kSessionsGroup) {
    absl::StatusOr<std::string> payload = decoder.Frame(Bytes(frame.hex));
    ASSERT_TRUE(payload.ok()) << payload.status();
    EXPECT_EQ(*payload, frame.json);
  }
}

TEST(FlateWireTest, EmptyObjectInAColdWindow) {
  FlateEncoder encoder;
  EXPECT_EQ(Hex(MustFrame(encoder, "{}")), "aaae0500");
  FlateDecoder decoder;
  EXPECT_EQ(decoder.Frame(Bytes("aaae0500")).value_or("?"), "{}");
}

TEST(FlateWireTest, EmptyPayloadIsAnEmptyFrame) {
  FlateEncoder encoder;
  EXPECT_EQ(MustFrame(encoder, ""), "");
  FlateDecoder decoder;
  EXPECT_EQ(decoder.Frame("").value_or("?"), "");
  // And does not disturb the stream.
  EXPECT_EQ(Hex(MustFrame(encoder, "{}")), "aaae0500");
}

TEST(FlateStreamTest, LaterFramesBackReferenceEarlierOnes) {
  const std::string record = R"({"acme/show/cam1":{"announced":1,"bytes":81920,"frames":240,"groups":8}})";
  FlateEncoder encoder;
  const std::string first = MustFrame(encoder, record);
  const std::string second = MustFrame(encoder, record);
  FlateEncoder cold;
  EXPECT_EQ(MustFrame(cold, record), first);
  // The repeat is one back-reference into the first frame.
  EXPECT_LT(second.size(), 10u);
  EXPECT_LT(second.size() * 4, first.size());

  FlateDecoder decoder;
  EXPECT_EQ(decoder.Frame(first).value_or("?"), record);
  EXPECT_EQ(decoder.Frame(second).value_or("?"), record);
  // Without the first frame the second refers to bytes the decoder never saw.
  FlateDecoder late;
  EXPECT_FALSE(late.Frame(second).ok());
}

TEST(FlateStreamTest, ResetStartsAColdStream) {
  FlateEncoder encoder;
  FlateDecoder decoder;
  const std::string a = MustFrame(encoder, "{\"a\":1}");
  ASSERT_TRUE(decoder.Frame(a).ok());
  encoder.Reset();
  decoder.Reset();
  const std::string b = MustFrame(encoder, "{\"a\":1}");
  EXPECT_EQ(b, a);  // the same bytes as a fresh stream
  EXPECT_EQ(decoder.Frame(b).value_or("?"), "{\"a\":1}");
}

TEST(FlateStreamTest, RoundTripsManyFramesOfAllSizes) {
  std::mt19937 rng(1951);
  FlateEncoder encoder;
  FlateDecoder decoder;
  std::vector<std::string> payloads;
  for (size_t size : {1u, 2u, 100u, 5000u, 70000u, 1u << 20, 3u}) {
    std::string text;
    const bool random = size == 70000u;  // incompressible: larger on the wire
    for (size_t i = 0; i < size; ++i) {
      text.push_back(random ? static_cast<char>(rng()) : static_cast<char>('a' + (i * 7 + i / 13) % 26));
    }
    payloads.push_back(text);
  }
  for (const std::string& payload : payloads) {
    const std::string frame = MustFrame(encoder, payload);
    absl::StatusOr<std::string> back = decoder.Frame(frame);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, payload);
  }
}

TEST(FlateErrorTest, GarbageIsAnErrorUntilReset) {
  FlateDecoder decoder;
  absl::StatusOr<std::string> bad = decoder.Frame("\xff\xff\xff\xff");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("corrupt frame"));
  EXPECT_EQ(decoder.Frame(Bytes("aaae0500")).status().code(), absl::StatusCode::kFailedPrecondition);
  decoder.Reset();
  EXPECT_EQ(decoder.Frame(Bytes("aaae0500")).value_or("?"), "{}");
}

TEST(FlateErrorTest, ATruncatedFrameIsAnError) {
  const std::string frame = Bytes(kSessionsGroup[0].hex);
  {
    FlateDecoder decoder;
    EXPECT_EQ(decoder.Frame(frame.substr(0, frame.size() - 1)).status().code(), absl::StatusCode::kInvalidArgument);
  }
  // No cut gives back the payload: each is an error or other bytes.
  for (size_t cut = 1; cut < frame.size(); ++cut) {
    FlateDecoder decoder;
    absl::StatusOr<std::string> payload = decoder.Frame(frame.substr(0, cut));
    if (payload.ok()) {
      EXPECT_NE(*payload, kSessionsGroup[0].json) << cut;
    }
  }
}

TEST(FlateErrorTest, AFrameThatStillEndsInTheFlushMarkerIsAnError) {
  FlateDecoder decoder;
  absl::StatusOr<std::string> payload = decoder.Frame(Bytes("aaae05000000ffff"));  // 00 00 ff ff kept
  ASSERT_FALSE(payload.ok());
  EXPECT_THAT(payload.status().message(), HasSubstr("does not end where a sync flush does"));
}

TEST(FlateErrorTest, AFinishedStreamInsideAFrameIsAnError) {
  // Raw DEFLATE ended with Z_FINISH (a final block), as moq never sends.
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string in = "{}";
  std::string out(64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  FlateDecoder decoder;
  absl::StatusOr<std::string> payload = decoder.Frame(out);
  ASSERT_FALSE(payload.ok());
  EXPECT_THAT(payload.status().message(), HasSubstr("stream ends inside a frame"));
}

TEST(FlateErrorTest, AFrameMayInflateToTheCapAndNoFurther) {
  const std::string zeros(10000, '0');
  FlateEncoder encoder;
  const std::string frame = MustFrame(encoder, zeros);
  EXPECT_LT(frame.size(), 100u);
  FlateDecoder at_cap(10000);
  EXPECT_EQ(at_cap.Frame(frame).value_or("?"), zeros);
  FlateDecoder below_cap(9999);
  absl::StatusOr<std::string> payload = below_cap.Frame(frame);
  ASSERT_FALSE(payload.ok());
  EXPECT_EQ(payload.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(below_cap.Frame(frame).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FlateErrorTest, DefaultCapIs64MiB) {
  EXPECT_EQ(FlateDecoder::kDefaultMaxFrameSize, 64u * 1024 * 1024);
  // 64 MiB + 1 of one byte: a few tens of KiB on the wire.
  FlateEncoder encoder;
  const std::string frame = MustFrame(encoder, std::string(FlateDecoder::kDefaultMaxFrameSize + 1, ' '));
  FlateDecoder decoder;
  EXPECT_EQ(decoder.Frame(frame).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(FlateTest, MovedCodersKeepTheirStreams) {
  FlateEncoder encoder;
  FlateDecoder decoder;
  const std::string first = MustFrame(encoder, "{\"k\":\"value\"}");
  ASSERT_TRUE(decoder.Frame(first).ok());
  FlateEncoder moved_encoder = std::move(encoder);
  FlateDecoder moved_decoder = std::move(decoder);
  const std::string second = MustFrame(moved_encoder, "{\"k\":\"value\"}");
  EXPECT_EQ(moved_decoder.Frame(second).value_or("?"), "{\"k\":\"value\"}");
}

}  // namespace
}  // namespace moq_stats::json
