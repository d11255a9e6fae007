#include "origin_bridge/qmux/transport_params.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin_bridge/qmux/frames.h"

namespace moq_stats::qmux {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

// initial_max_data 1 MiB, initial_max_streams_uni 100, max_record_size 16382,
// as in frames_test.cc's transport parameters wire image.
TransportParametersFrame ImageParams() {
  TransportParametersFrame f;
  f.parameters.push_back({kInitialMaxDataParam, Bytes({0x80, 0x10, 0x00, 0x00})});
  f.parameters.push_back({kInitialMaxStreamsUniParam, Bytes({0x40, 0x64})});
  f.parameters.push_back({kMaxRecordSizeParam, Bytes({0x7f, 0xfe})});
  return f;
}

TEST(QmuxTransportParametersTest, ImageReadsAsParameters) {
  TransportParameters params;
  ASSERT_TRUE(FromFrame(ImageParams(), &params).ok());
  EXPECT_EQ(params.initial_max_data, 1u << 20);
  EXPECT_EQ(params.initial_max_streams_uni, 100u);
  EXPECT_EQ(params.max_record_size, 16382u);
  EXPECT_EQ(params.initial_max_streams_bidi, 0u);
  EXPECT_TRUE(params.application_protocols.empty());
}

TEST(QmuxTransportParametersTest, RoundTripWithAlpnAndUnknown) {
  TransportParameters params = DefaultTransportParameters({"moq-lite-05", "moq-lite-04"});
  params.max_idle_timeout_ms = 30000;
  params.unknown.push_back({0x11, "\xff"});
  const TransportParametersFrame frame = ToFrame(params);
  std::string wire;
  ASSERT_TRUE(AppendFrame(frame, &wire).ok());
  // application_protocols id on the wire, as the notes give it.
  EXPECT_NE(wire.find(Bytes({0xfd, 0x4f, 0x9c, 0x2a, 0x8b, 0x1e, 0x60, 0x75})), std::string::npos);
  Frame parsed;
  size_t consumed = 0;
  ASSERT_TRUE(ParseFrame(wire, &parsed, &consumed).ok());
  TransportParameters back;
  ASSERT_TRUE(FromFrame(std::get<TransportParametersFrame>(parsed), &back).ok());
  EXPECT_EQ(back.initial_max_data, 1u << 20);
  EXPECT_EQ(back.initial_max_stream_data_bidi_local, 256u << 10);
  EXPECT_EQ(back.initial_max_stream_data_bidi_remote, 256u << 10);
  EXPECT_EQ(back.initial_max_stream_data_uni, 256u << 10);
  EXPECT_EQ(back.initial_max_streams_bidi, 100u);
  EXPECT_EQ(back.initial_max_streams_uni, 100u);
  EXPECT_EQ(back.max_idle_timeout_ms, 30000u);
  EXPECT_EQ(back.max_record_size, kDefaultMaxRecordSize);
  EXPECT_EQ(back.application_protocols, params.application_protocols);
  ASSERT_EQ(back.unknown.size(), 1u);
  EXPECT_TRUE(back.unknown[0] == params.unknown[0]);
}

TEST(QmuxTransportParametersTest, DefaultsWhenAbsent) {
  TransportParameters params;
  ASSERT_TRUE(FromFrame(TransportParametersFrame{}, &params).ok());
  EXPECT_EQ(params.max_record_size, kDefaultMaxRecordSize);
  EXPECT_EQ(params.initial_max_data, 0u);
}

TEST(QmuxTransportParametersTest, BadParametersAreTransportParameterErrors) {
  const std::vector<TransportParameter> cases[] = {
      {{kInitialMaxDataParam, Bytes({0x01})}, {kInitialMaxDataParam, Bytes({0x02})}},  // dup
      {{kInitialMaxDataParam, Bytes({0x01, 0x02})}},                                   // value longer than its varint
      {{kInitialMaxDataParam, Bytes({0x40})}},                                         // value truncated
      {{kInitialMaxDataParam, ""}},                                                    // empty value
      {{0x00, ""}},                                        // original_destination_connection_id
      {{0x10, ""}},                                        // retry_source_connection_id
      {{kApplicationProtocolsParam, ""}},                  // empty protocol list
      {{kApplicationProtocolsParam, Bytes({0x05, 'a'})}},  // name runs past the value
  };
  for (const auto& parameters : cases) {
    TransportParameters params;
    ParseResult result = FromFrame(TransportParametersFrame{parameters}, &params);
    ASSERT_TRUE(result.error());
    EXPECT_EQ(result.error_code, kTransportParameterError) << result.reason;
  }
}

}  // namespace
}  // namespace moq_stats::qmux
