#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_WIRE_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_WIRE_H_

// Helpers for tests that play the peer of a qmux::Connection by hand: encode
// frames as one record, decode what a connection sent back into frames, and
// the transport parameters a hand-played peer opens with.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/frames.h"
#include "origin_bridge/qmux/record.h"
#include "origin_bridge/qmux/transport_params.h"

namespace moq_stats::qmux::test {

// `frames` encoded back to back as one WebSocket record (STREAM frames as
// given, with or without their length).
inline std::string EncodeRecord(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& frame : frames) {
    if (!AppendFrame(frame, &out).ok()) return {};
  }
  return out;
}

inline std::string EncodeRecord(const Frame& frame) { return EncodeRecord(std::vector<Frame>{frame}); }

// The transport parameters frame of the defaults (or `params`).
inline std::string ParametersRecord(const TransportParameters& params = DefaultTransportParameters()) {
  return EncodeRecord(Frame{ToFrame(params)});
}

class CollectingVisitor : public RecordVisitor {
 public:
  void OnFrame(Frame frame) override { frames.push_back(std::move(frame)); }
  void OnParsingError(uint64_t code, std::string_view) override { errors.push_back(code); }
  std::vector<Frame> frames;
  std::vector<uint64_t> errors;
};

// Every frame in `records` (WebSocket records, or draft-00 messages), in
// order. PADDING is skipped.
inline std::vector<Frame> DecodeRecords(const std::vector<std::string>& records) {
  CollectingVisitor visitor;
  for (const std::string& record : records) ParseRecord(record, ~uint64_t{0}, &visitor);
  return visitor.frames;
}

// The frames of type T among `frames`.
template <typename T>
std::vector<T> FramesOf(const std::vector<Frame>& frames) {
  std::vector<T> out;
  for (const Frame& frame : frames) {
    if (const T* f = std::get_if<T>(&frame)) out.push_back(*f);
  }
  return out;
}

inline StreamFrame Stream(uint64_t id, uint64_t offset, std::string data, bool fin = false) {
  StreamFrame frame;
  frame.stream_id = id;
  frame.offset = offset;
  frame.has_offset = true;
  frame.data = std::move(data);
  frame.fin = fin;
  return frame;
}

}  // namespace moq_stats::qmux::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_WIRE_H_
