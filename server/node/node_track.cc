#include "server/node/node_track.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace moq_stats::server {

void AppendNodeTraffic(const Counts& counts, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (Counter c : kNodeTrafficOrder) {
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(kCountFields[static_cast<size_t>(c)].name);
    out->append("\":");
    absl::StrAppend(out, counts[c]);
  }
  out->push_back('}');
}

bool NodeTrafficLive(const Counts& c) {
  return c.announced > c.announced_closed || c.broadcasts > c.broadcasts_closed ||
         c.subscriptions > c.subscriptions_closed;
}

std::optional<std::string> NodeTrack::Tick(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
  absl::flat_hash_map<std::string, Counts> next;
  next.reserve(entries.size());
  std::string frame = "{";
  for (const auto& [path, counts] : entries) {
    auto it = last_.find(absl::string_view(path.data(), path.size()));
    const Counts& before = it == last_.end() ? Counts{} : it->second;
    const bool in_frame = NodeTrafficLive(counts) || counts != before;
    // What the path had when last in a frame, for the next tick.
    next.emplace(std::string(path), in_frame ? counts : before);
    if (!in_frame) continue;
    if (frame.size() > 1) frame.push_back(',');
    AppendJsonString(path, &frame);
    frame.push_back(':');
    AppendNodeTraffic(counts, &frame);
  }
  frame.push_back('}');
  last_ = std::move(next);
  if (last_frame_ == frame) return std::nullopt;
  last_frame_ = frame;
  return frame;
}

}  // namespace moq_stats::server
