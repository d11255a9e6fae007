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
// broadcasts or subscriptions opened than closed) or on the tick its counts
// changed (a path the track never had compares against zeros), so a path
// that closes shows its final counts once and is then dropped. A frame is
// written only when its content changed.
//
// Ticks take deltas (PathTable::Report): the paths that are new, changed or
// let go since the last tick. A path let go is in that tick's frame by the
// same rule and leaves on the next one. With each frame comes its RFC 7396
// merge patch from the last frame (the changed counters of a path that
// stays, a path that enters whole, null for a path that leaves), which the
// compressed sibling writes as its delta.
//
// The track keeps each path's last counts and the last frame's members
// (`"path":{...}`) in byte order of their paths, with where each one's text
// is. A tick looks up the reported paths, serializes those that changed or
// enter, and copies each run of untouched members from the last frame in
// one piece: its cost is the changes, plus, when the frame changed, one
// copy of the frame's text. A tick where nothing entered, left or changed
// builds nothing. The last frame is shared with whoever it was handed to;
// its buffer is reused once they have all let it go.
//
// Sans-IO: counts in, frame text out. Not thread-safe.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
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

// Appends the merge patch from `before` to `after` of one path's traffic:
// the counters that differ, in Traffic order.
void AppendNodeTrafficPatch(const Counts& before, const Counts& after, std::string* out);

// True while more announcements, broadcasts or subscriptions were opened
// than closed.
bool NodeTrafficLive(const Counts& counts);

// One tick's frame and its merge patch from the frame before (for the
// first frame, `patch` is the whole frame).
struct NodeFrame {
  std::shared_ptr<const std::string> text;
  std::string patch;
};

class NodeTrack {
 public:
  // One path's counts in this tick's report.
  struct Entry {
    std::string_view path;
    Counts counts;
    // Let go: these are its final counts, and it leaves on the next tick.
    bool released = false;
  };

  NodeTrack() = default;
  NodeTrack(const NodeTrack&) = delete;
  NodeTrack& operator=(const NodeTrack&) = delete;
  NodeTrack(NodeTrack&&) = default;
  NodeTrack& operator=(NodeTrack&&) = default;

  // The frame after this tick's changes (`entries`: the paths of this
  // track's tier, role and broadcast that are new, changed or let go, in
  // any order, each once), or nullopt when it equals the last frame. The
  // first tick always gives a frame, `{}` when nothing is in it.
  std::optional<NodeFrame> Tick(const std::vector<Entry>& entries);

  // Paths remembered: reported and not forgotten (a path let go is
  // forgotten on the tick after).
  size_t remembered() const { return slots_.size(); }
  // Paths reported and not let go.
  size_t held() const { return slots_.size() - released_.size(); }

 private:
  // One path the track knows.
  struct Slot {
    Counts shown;           // its last reported counts (zeros before)
    bool in_frame = false;  // in the last frame
    bool leaving = false;   // let go last tick: leaves now
    uint64_t touched = 0;   // the last tick that reported it
  };
  // A path of the frame, and where its member's text is.
  struct Member {
    std::string_view path;  // the key of its slot
    Slot* slot = nullptr;
    size_t offset = 0;
    size_t length = 0;
  };
  using Slots = absl::node_hash_map<std::string, Slot>;

  // Takes `slot` out of the frame this tick (its member is dropped).
  void Leave(std::string_view path, Slot& slot);
  // Makes the frame of this tick: the last one's members, less those
  // leaving, with those changed serialized anew and those entering placed
  // in byte order.
  void Assemble();
  // A buffer for the next frame: the last-but-one's when nobody holds it.
  std::shared_ptr<std::string> FreshBuffer();

  // Keyed by path; node-based, so the members' paths and slots stay put.
  Slots slots_;
  // Slots forgotten this tick, kept until the frame is built (members point
  // into them).
  std::vector<Slots::node_type> forgotten_;
  // The members of the last frame, in byte order of their paths.
  std::vector<Member> order_;
  std::vector<Member> spare_order_;
  // This tick's changes: the paths of members to drop or to serialize
  // anew, and the members entering.
  std::vector<std::string_view> leaving_;
  std::vector<std::string_view> changed_;
  std::vector<Member> entering_;
  // This tick's merge patch, by path (a later change of a path replaces an
  // earlier one).
  std::vector<std::pair<std::string_view, std::string>> patch_;
  // Paths let go last tick, and paths in the last frame only because they
  // changed: both are looked at again on the next tick.
  std::vector<std::string_view> released_;
  std::vector<std::string_view> transient_;
  std::shared_ptr<std::string> frame_;     // the last frame written
  std::shared_ptr<std::string> previous_;  // the one before, whose buffer may be reused
  uint64_t ticks_ = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_NODE_TRACK_H_
