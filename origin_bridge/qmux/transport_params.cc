#include "origin_bridge/qmux/transport_params.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {
namespace {

void AddInteger(uint64_t id, uint64_t value, TransportParametersFrame* frame) {
  if (value == 0) return;
  TransportParameter p;
  p.id = id;
  AppendVarint(value, &p.value);
  frame->parameters.push_back(std::move(p));
}

bool ReadWholeVarint(const std::string& value, uint64_t* out) {
  const VarintRead read = ReadVarint(value);
  if (!read.complete || read.length != value.size()) return false;
  *out = read.value;
  return true;
}

bool IsForbiddenQuicParam(uint64_t id) { return id == 0x00 || id == 0x02 || id == 0x03 || (id >= 0x0a && id <= 0x10); }

ParseResult ParamError(uint64_t id, const char* what) {
  return ParseResult::Error(kTransportParameterError,
                            absl::StrCat("transport parameter 0x", absl::Hex(id), ": ", what));
}

}  // namespace

TransportParametersFrame ToFrame(const TransportParameters& params) {
  TransportParametersFrame frame;
  AddInteger(kMaxIdleTimeoutParam, params.max_idle_timeout_ms, &frame);
  AddInteger(kInitialMaxDataParam, params.initial_max_data, &frame);
  AddInteger(kInitialMaxStreamDataBidiLocalParam, params.initial_max_stream_data_bidi_local, &frame);
  AddInteger(kInitialMaxStreamDataBidiRemoteParam, params.initial_max_stream_data_bidi_remote, &frame);
  AddInteger(kInitialMaxStreamDataUniParam, params.initial_max_stream_data_uni, &frame);
  AddInteger(kInitialMaxStreamsBidiParam, params.initial_max_streams_bidi, &frame);
  AddInteger(kInitialMaxStreamsUniParam, params.initial_max_streams_uni, &frame);
  AddInteger(kMaxDatagramFrameSizeParam, params.max_datagram_frame_size, &frame);
  AddInteger(kMaxRecordSizeParam, params.max_record_size, &frame);
  if (!params.application_protocols.empty()) {
    TransportParameter p;
    p.id = kApplicationProtocolsParam;
    for (const std::string& name : params.application_protocols) {
      AppendVarint(name.size(), &p.value);
      p.value.append(name);
    }
    frame.parameters.push_back(std::move(p));
  }
  for (const TransportParameter& p : params.unknown) frame.parameters.push_back(p);
  return frame;
}

ParseResult FromFrame(const TransportParametersFrame& frame, TransportParameters* out) {
  TransportParameters params;
  std::set<uint64_t> seen;
  for (const TransportParameter& p : frame.parameters) {
    uint64_t* field = nullptr;
    switch (p.id) {
      case kMaxIdleTimeoutParam:
        field = &params.max_idle_timeout_ms;
        break;
      case kInitialMaxDataParam:
        field = &params.initial_max_data;
        break;
      case kInitialMaxStreamDataBidiLocalParam:
        field = &params.initial_max_stream_data_bidi_local;
        break;
      case kInitialMaxStreamDataBidiRemoteParam:
        field = &params.initial_max_stream_data_bidi_remote;
        break;
      case kInitialMaxStreamDataUniParam:
        field = &params.initial_max_stream_data_uni;
        break;
      case kInitialMaxStreamsBidiParam:
        field = &params.initial_max_streams_bidi;
        break;
      case kInitialMaxStreamsUniParam:
        field = &params.initial_max_streams_uni;
        break;
      case kMaxDatagramFrameSizeParam:
        field = &params.max_datagram_frame_size;
        break;
      case kMaxRecordSizeParam:
        field = &params.max_record_size;
        break;
      case kApplicationProtocolsParam:
        break;
      default:
        if (IsForbiddenQuicParam(p.id)) return ParamError(p.id, "not allowed in QMux");
        params.unknown.push_back(p);
        continue;
    }
    if (!seen.insert(p.id).second) return ParamError(p.id, "duplicate");
    if (field != nullptr) {
      if (!ReadWholeVarint(p.value, field)) return ParamError(p.id, "value is not one varint");
      continue;
    }
    // application_protocols: a list of length-prefixed names, never empty.
    std::string_view rest = p.value;
    while (!rest.empty()) {
      const VarintRead length = ReadVarint(rest);
      if (!length.complete || length.value > rest.size() - length.length) {
        return ParamError(p.id, "truncated protocol name");
      }
      params.application_protocols.emplace_back(rest.substr(length.length, length.value));
      rest.remove_prefix(length.length + length.value);
    }
    if (params.application_protocols.empty()) return ParamError(p.id, "empty protocol list");
  }
  *out = std::move(params);
  return ParseResult::Ok();
}

TransportParameters DefaultTransportParameters(std::vector<std::string> alpns) {
  TransportParameters params;
  params.initial_max_data = 1 << 20;
  params.initial_max_stream_data_bidi_local = 256 << 10;
  params.initial_max_stream_data_bidi_remote = 256 << 10;
  params.initial_max_stream_data_uni = 256 << 10;
  params.initial_max_streams_bidi = 100;
  params.initial_max_streams_uni = 100;
  params.max_record_size = kDefaultMaxRecordSize;
  params.application_protocols = std::move(alpns);
  return params;
}

}  // namespace moq_stats::qmux
