#include "server/stats/snapshot_frame.h"

#include <charconv>

namespace moq_stats::server {
namespace {

void AppendUint(uint64_t v, std::string* out) {
  char buf[20];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendInt(int64_t v, std::string* out) {
  char buf[21];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendField(std::string_view key, uint64_t v, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
  AppendUint(v, out);
}

}  // namespace

std::string EncodeSnapshotFrame(const SnapshotFrame& frame) {
  std::string out;
  out.reserve(224 + frame.level.size() + frame.node.size());
  out.append("{\"v\":");
  AppendUint(kSnapshotFrameVersion, &out);
  out.append(",\"level\":");
  AppendJsonString(frame.level, &out);
  out.append(",\"tier\":");
  AppendJsonString(TierName(frame.tier), &out);
  out.append(",\"role\":");
  AppendJsonString(RoleName(frame.role), &out);
  if (!frame.node.empty()) {
    out.append(",\"node\":");
    AppendJsonString(frame.node, &out);
  }
  out.append(",\"ts_ms\":");
  // ts_ms is unsigned in the frame format (the seed's u64): a clock before
  // 1970 gives 0, as in the seed.
  AppendInt(frame.ts_ms < 0 ? 0 : frame.ts_ms, &out);
  const Counts& s = frame.snapshot;
  AppendField("broadcasts", s.broadcasts, &out);
  AppendField("broadcasts_closed", s.broadcasts_closed, &out);
  AppendField("subscriptions", s.subscriptions, &out);
  AppendField("subscriptions_closed", s.subscriptions_closed, &out);
  AppendField("bytes", s.bytes, &out);
  AppendField("frames", s.frames, &out);
  AppendField("groups", s.groups, &out);
  out.push_back('}');
  return out;
}

}  // namespace moq_stats::server
