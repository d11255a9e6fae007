#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "origin_bridge/lite/internal/body.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite {

using internal::BodyReader;
using internal::BodyWriter;
using internal::DecodeMessage;

// ---- GroupHeader

absl::Status GroupHeader::Encode(Version, std::string* out) const {
  BodyWriter w;
  w.Varint(subscribe_id);
  w.Varint(sequence);
  return w.Finish(out);
}

DecodeResult<GroupHeader> GroupHeader::Decode(Version, std::string_view bytes) {
  return DecodeMessage<GroupHeader>(
      bytes, [](BodyReader& r, GroupHeader* m) { return r.Varint(&m->subscribe_id) && r.Varint(&m->sequence); });
}

// ---- Frame

absl::Status Frame::Encode(Version version, std::string* out) const {
  std::string header;
  if (version == Version::kLite05) {
    uint64_t zigzag = 0;
    if (!ZigzagEncode(timestamp_delta, &zigzag)) {
      return absl::InvalidArgumentError("timestamp delta out of range");
    }
    AppendVarint(zigzag, &header);
  }
  if (!AppendVarint(payload.size(), &header)) {
    return absl::InvalidArgumentError("frame too large");
  }
  out->append(header);
  out->append(payload);
  return absl::OkStatus();
}

DecodeResult<Frame> Frame::Decode(Version version, std::string_view bytes) {
  WireReader reader(bytes);
  DecodeResult<Frame> result;
  if (version == Version::kLite05) {
    uint64_t zigzag = 0;
    if (reader.ReadVarint(&zigzag) != ReadStatus::kOk) return result;
    result.value.timestamp_delta = ZigzagDecode(zigzag);
  }
  std::string_view payload;
  if (reader.ReadBytes(&payload) != ReadStatus::kOk) return result;
  result.value.payload.assign(payload.data(), payload.size());
  result.status = DecodeStatus::kOk;
  result.consumed = reader.consumed();
  return result;
}

}  // namespace moq_stats::lite
