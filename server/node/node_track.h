#ifndef MOQ_STATS_SERVER_NODE_NODE_TRACK_H_
#define MOQ_STATS_SERVER_NODE_NODE_TRACK_H_

// The frames of one traffic track of the node format (`publisher.json`,
// `subscriber.json`, or a named tier's `<tier>/...`): each frame a JSON
// object mapping broadcast path to that path's twelve counters, keys in byte
// order, counters in the order of moq's Traffic:
//
//   {"acme/cam":{"announced":1,"announced_closed":0,"announced_bytes":8,
//    "broadcasts":3,"broadcasts_closed":1,"subscriptions":7,
//    "subscriptions_closed":3,"fetches":2,"bytes":81920,"frames":240,
//    "groups":8,"datagrams":0}}
//
// A path is in a tick's frame while it is live (more announcements,
// broadcasts or subscriptions opened than closed) or when its counts changed
// since they were last in a frame (a path never in a frame compares against
// zeros), so a path that closes shows its final counts once and is then
// dropped. A frame is written only when its text differs from the last one.
//
// Sans-IO: counts in, frame text out. Not thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "moq_stats/counts.h"

namespace moq_stats::server {

// The counters in the order moq's Traffic serializes them.
inline constexpr std::array<Counter, kCounterCount> kNodeTrafficOrder = {
    Counter::kAnnounced,
    Counter::kAnnouncedClosed,
    Counter::kAnnouncedBytes,
    Counter::kBroadcasts,
    Counter::kBroadcastsClosed,
    Counter::kSubscriptions,
    Counter::kSubscriptionsClosed,
    Counter::kFetches,
    Counter::kBytes,
    Counter::kFrames,
    Counter::kGroups,
    Counter::kDatagrams,
};

// Appends `counts` as the JSON object of one path's traffic.
void AppendNodeTraffic(const Counts& counts, std::string* out);

// True while more announcements, broadcasts or subscriptions were opened
// than closed.
bool NodeTrafficLive(const Counts& counts);

class NodeTrack {
 public:
  // One path's counts in this tick's report.
  using Entry = std::pair<std::string_view, Counts>;

  // The frame for this tick's report (`entries`: every path of this track's
  // tier, role and broadcast the report holds, in any order, each once), or
  // nullopt when it equals the last frame written. The first tick always
  // gives a frame, `{}` when nothing is in it.
  std::optional<std::string> Tick(std::vector<Entry> entries);

  // Paths remembered for change detection.
  size_t remembered() const { return last_.size(); }

 private:
  // The counts each path of the last report had when last in a frame.
  absl::flat_hash_map<std::string, Counts> last_;
  std::optional<std::string> last_frame_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_NODE_TRACK_H_
