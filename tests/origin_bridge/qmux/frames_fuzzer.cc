// libFuzzer target for the QMux frame and record parsers. It only checks that
// no input crashes them (or trips a sanitizer); what they accept is covered
// by frames_test.cc and record_test.cc.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "origin_bridge/qmux/frames.h"
#include "origin_bridge/qmux/record.h"
#include "origin_bridge/qmux/transport_params.h"

namespace {

class DiscardingVisitor : public moq_stats::qmux::RecordVisitor {
 public:
  void OnFrame(moq_stats::qmux::Frame frame) override {
    if (auto* params = std::get_if<moq_stats::qmux::TransportParametersFrame>(&frame)) {
      moq_stats::qmux::TransportParameters parsed;
      moq_stats::qmux::FromFrame(*params, &parsed);
    }
    std::string out;
    (void)moq_stats::qmux::AppendFrame(frame, &out);
  }
  void OnParsingError(uint64_t, std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Frame by frame, as a prefix of a byte stream and as a whole record.
  for (bool end_of_record : {false, true}) {
    std::string_view rest = bytes;
    while (!rest.empty()) {
      moq_stats::qmux::Frame frame;
      size_t consumed = 0;
      if (!moq_stats::qmux::ParseFrame(rest, &frame, &consumed, end_of_record).ok()) break;
      rest.remove_prefix(consumed);
    }
  }

  // As one WebSocket record, and as a TCP byte stream of records.
  DiscardingVisitor visitor;
  moq_stats::qmux::ParseRecord(bytes, moq_stats::qmux::kDefaultMaxRecordSize, &visitor);
  std::string_view stream = bytes;
  while (true) {
    std::string_view record;
    size_t consumed = 0;
    if (!moq_stats::qmux::ReadTcpRecord(stream, moq_stats::qmux::kDefaultMaxRecordSize, &record, &consumed).ok()) {
      break;
    }
    moq_stats::qmux::ParseRecord(record, moq_stats::qmux::kDefaultMaxRecordSize, &visitor);
    stream.remove_prefix(consumed);
  }
  return 0;
}
