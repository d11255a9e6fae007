#include "origin_bridge/lite/internal/session_context.h"

#include "common/clock.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite::internal {

ErrorCode RefusalCode(const Origin& origin, std::string_view broadcast) {
  return origin.has_broadcast(Path(broadcast)) ? ErrorCode::kNotFound : ErrorCode::kUnroutable;
}

uint64_t FrameTimestamp(const SessionContext& ctx) {
  if (ctx.options.clock == nullptr) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(ctx.options.clock->Now() - ctx.start_time);
  return ms > 0 ? static_cast<uint64_t>(ms) : 0;
}

void AppendFrame(Version version, uint64_t timestamp_delta, std::string_view payload, std::string* out) {
  if (version == Version::kLite05) {
    uint64_t zigzag = 0;
    // Timestamps are milliseconds since construction: far below 2^61.
    if (!ZigzagEncode(static_cast<int64_t>(timestamp_delta), &zigzag)) {
      zigzag = 0;
    }
    AppendVarint(zigzag, out);
  }
  AppendVarint(payload.size(), out);
  out->append(payload.data(), payload.size());
}

std::string EncodeGroupStream(Version version, uint64_t subscribe_id, uint64_t sequence, std::string_view payload,
                              uint64_t timestamp) {
  std::string out;
  out.reserve(payload.size() + 24);
  AppendVarint(static_cast<uint64_t>(DataStreamType::kGroup), &out);
  GroupHeader header;
  header.subscribe_id = subscribe_id;
  header.sequence = sequence;
  // Both fields come from varints we decoded or the origin's counters.
  (void)header.Encode(version, &out);
  AppendFrame(version, timestamp, payload, &out);
  return out;
}

}  // namespace moq_stats::lite::internal
