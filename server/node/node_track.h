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
// Ticks are incremental: the track keeps each path's last counts, and the
// last frame's text with its members (`"path":{...}`) in byte order of their
// paths and where each one's text is. A tick looks each reported path up,
// serializes only the paths whose counts changed or that enter the frame
// (placing those by binary search), and copies every other member's text
// from the last frame; a tick where nothing entered, left or changed builds
// no text at all. A tick's cost is one lookup per reported path, plus, when
// the frame changed, one copy of the frame's text and the serialization of
// the changed paths. The track holds the last two frames' buffers for reuse.
//
// Sans-IO: counts in, frame text out. Not thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
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
  size_t remembered() const { return slots_.size(); }

 private:
  // One path of the last report.
  struct Slot {
    Counts shown;           // its counts when last in a frame (zeros before)
    uint64_t seen = 0;      // the last tick whose report had it
    bool in_frame = false;  // in the last frame
  };
  // A path of the frame, and where its member's text is in frame_.
  struct Member {
    std::string_view path;  // the key of its slot
    Slot* slot = nullptr;
    size_t offset = 0;
    size_t length = 0;
  };
  // What a tick does to a member of the last frame.
  enum class Mark { kReserialize, kLeave };

  // Makes frame_ the frame of this tick: the members of the last frame
  // (copied, or serialized anew when marked so), less those leaving, plus
  // those entering, in byte order.
  void Assemble();

  // Keyed by path; node-based, so the members' paths and slots stay put.
  absl::node_hash_map<std::string, Slot> slots_;
  // The members of the last frame, in byte order of their paths.
  std::vector<Member> order_;
  // This tick's changes: marks on members of the last frame, by slot, and
  // the members entering the frame.
  absl::flat_hash_map<const Slot*, Mark> marks_;
  std::vector<Member> entering_;
  std::string frame_;                // the last frame written
  std::string spare_;                // the frame before, whose buffer the next one reuses
  std::vector<Member> spare_order_;  // likewise for order_
  uint64_t ticks_ = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_NODE_TRACK_H_
