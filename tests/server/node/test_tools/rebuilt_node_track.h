#ifndef MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_
#define MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_

// The frames of a node-format traffic track built from scratch on every
// tick: sort the report, decide each path by the live-or-changed rule,
// serialize every path in the frame, compare the text with the last frame.
// The oracle the incremental NodeTrack is checked against, and the baseline
// its benchmark compares with. Same contract as NodeTrack::Tick.

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"
#include "server/node/node_track.h"

namespace moq_stats::server::test {

class RebuiltNodeTrack {
 public:
  std::optional<std::string> Tick(std::vector<NodeTrack::Entry> entries) {
    std::sort(entries.begin(), entries.end(),
              [](const NodeTrack::Entry& a, const NodeTrack::Entry& b) { return a.first < b.first; });
    absl::flat_hash_map<std::string, Counts> next;
    next.reserve(entries.size());
    std::string frame = "{";
    for (const auto& [path, counts] : entries) {
      auto it = shown_.find(absl::string_view(path.data(), path.size()));
      const Counts& before = it == shown_.end() ? Counts{} : it->second;
      const bool in_frame = NodeTrafficLive(counts) || counts != before;
      next.emplace(std::string(path), in_frame ? counts : before);
      if (!in_frame) continue;
      if (frame.size() > 1) frame.push_back(',');
      AppendJsonString(path, &frame);
      frame.push_back(':');
      AppendNodeTraffic(counts, &frame);
    }
    frame.push_back('}');
    shown_ = std::move(next);
    if (last_frame_ == frame) return std::nullopt;
    last_frame_ = frame;
    return frame;
  }

  size_t remembered() const { return shown_.size(); }

 private:
  // Each path of the last report: its counts when last in a frame.
  absl::flat_hash_map<std::string, Counts> shown_;
  std::optional<std::string> last_frame_;
};

}  // namespace moq_stats::server::test

#endif  // MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_
