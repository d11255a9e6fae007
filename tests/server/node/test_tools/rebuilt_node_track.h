#ifndef MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_
#define MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_

// The frames of a node-format traffic track built from scratch on every
// tick from every path there is: sort them, decide each path by the
// live-or-changed rule, serialize every path in the frame, compare the text
// with the last frame. The oracle the incremental NodeTrack (which takes
// only the paths that changed) is checked against, and the baseline its
// benchmark compares with.
//
// Tick takes every path of the table this tick, those let go since the last
// tick included (`released`, with their final counts); a path let go is
// forgotten after its tick, so one counted again starts from zero.

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
              [](const NodeTrack::Entry& a, const NodeTrack::Entry& b) { return a.path < b.path; });
    absl::flat_hash_map<std::string, Counts> next;
    next.reserve(entries.size());
    std::string frame = "{";
    for (const NodeTrack::Entry& entry : entries) {
      auto it = shown_.find(absl::string_view(entry.path.data(), entry.path.size()));
      const Counts& before = it == shown_.end() ? Counts{} : it->second;
      const bool in_frame = NodeTrafficLive(entry.counts) || entry.counts != before;
      if (!entry.released) next.emplace(std::string(entry.path), entry.counts);
      if (!in_frame) continue;
      if (frame.size() > 1) frame.push_back(',');
      AppendJsonString(entry.path, &frame);
      frame.push_back(':');
      AppendNodeTraffic(entry.counts, &frame);
    }
    frame.push_back('}');
    shown_ = std::move(next);
    if (last_frame_ == frame) return std::nullopt;
    last_frame_ = frame;
    return frame;
  }

  // Paths held: reported and not let go.
  size_t held() const { return shown_.size(); }

 private:
  // Each path held: its last counts.
  absl::flat_hash_map<std::string, Counts> shown_;
  std::optional<std::string> last_frame_;
};

}  // namespace moq_stats::server::test

#endif  // MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_REBUILT_NODE_TRACK_H_
