#include "server/node/sessions_track.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace moq_stats::server {

void AppendNodePresence(const Presence& p, std::string* out) {
  absl::StrAppend(out, "{\"sessions\":", p.sessions, ",\"sessions_closed\":", p.sessions_closed, "}");
}

std::optional<std::string> SessionsTrack::Tick(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
  absl::flat_hash_map<std::string, Presence> next;
  next.reserve(entries.size());
  std::string frame = "{";
  for (const auto& [root, counts] : entries) {
    auto it = last_.find(absl::string_view(root.data(), root.size()));
    const Presence before = it == last_.end() ? Presence{} : it->second;
    const bool in_frame = counts.sessions > counts.sessions_closed || counts != before;
    next.emplace(std::string(root), in_frame ? counts : before);
    if (!in_frame) continue;
    if (frame.size() > 1) frame.push_back(',');
    AppendJsonString(root, &frame);
    frame.push_back(':');
    AppendNodePresence(counts, &frame);
  }
  frame.push_back('}');
  last_ = std::move(next);
  if (last_frame_ == frame) return std::nullopt;
  last_frame_ = frame;
  return frame;
}

}  // namespace moq_stats::server
