#ifndef MOQ_STATS_SERVER_NODE_NODE_PUBLISHER_H_
#define MOQ_STATS_SERVER_NODE_NODE_PUBLISHER_H_

// The node format: moq's current stats broadcasts, one per node (or, at a
// depth N > 0, one per group of paths sharing their first N segments), each
// with the node's traffic per broadcast path.
//
// Broadcast path: `<prefix>/node/<node>` (`<prefix>/node` without a node) at
// depth 0, `<prefix>/<group>/node/<node>` at depth N. The depth-0 broadcast
// is announced from Create until the publisher stops; a group broadcast is
// announced on the first tick its group has a path in the report and ended
// on the first tick it has none, so its last frames carry its final counts.
//
// Tracks, per tier: `publisher.json` (egress) and `subscriber.json`
// (ingress), see NodeTrack, and `sessions.json` (auth root -> presence, see
// SessionsTrack). The external tier is moq's default tier (unprefixed
// names); the internal tier is the named tier `internal`
// (`internal/publisher.json`, ...), and a tier a relay named `T` has
// `T/publisher.json`, ... The default tier's tracks exist from the start and
// hold `{}` while idle; a named tier's traffic tracks are made on the first
// tick that has a path of that tier, its sessions track on the first tick
// that has an auth root of it, and both stay for the broadcast's life.
// Traffic is grouped by broadcast path, sessions by auth root.
//
// Every track has a compressed sibling `<name>.z` (CompressedTrack): the
// same values on the same tick, in moq-json's snapshot encoding.
//
// Every `interval` a tick reads the PathTable's report of what changed and
// the PresenceTable (which then forget the entries nobody holds) and writes
// a frame on each track whose content changed. A group's broadcast lives
// while its tracks hold a path not let go, or the tick reports one.
//
// Safe for concurrent access from multiple threads.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/path.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "server/node/compressed_track.h"
#include "server/node/node_track.h"
#include "server/node/sessions_track.h"
#include "server/stats/path_table.h"
#include "server/stats/presence_table.h"

namespace moq_stats::server {

class NodePublisher : public std::enable_shared_from_this<NodePublisher> {
 public:
  struct Options {
    Origin* origin = nullptr;
    Scheduler* scheduler = nullptr;
    const Clock* clock = nullptr;
    std::shared_ptr<PathTable> paths;
    // Optional: without it every sessions track holds `{}`.
    std::shared_ptr<PresenceTable> presence;
    Path prefix;
    Path node;
    uint32_t depth = 0;
    absl::Duration interval = absl::Seconds(1);
  };

  // Publishes the depth-0 broadcast (at depth 0) and schedules the first
  // tick one interval from now. The origin, scheduler and clock are
  // borrowed and must outlive the publisher's ticks (Stop ends them).
  // INVALID_ARGUMENT for a missing part; the origin's error when it refuses
  // the broadcast path.
  static absl::StatusOr<std::shared_ptr<NodePublisher>> Create(Options options);

  // One tick now; returns the frames it wrote. Ticks after Stop write
  // nothing.
  size_t Tick() ABSL_LOCKS_EXCLUDED(mu_);

  // Ends every broadcast and the ticks. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The broadcast path of `group` ("" at depth 0).
  Path BroadcastPath(const Path& group) const;

  // Broadcasts announced now, and frames written so far.
  size_t broadcasts() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t frames_written() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Track {
    TrackProducer* producer = nullptr;  // owned by the group's broadcast
    NodeTrack frames;
    std::unique_ptr<CompressedTrack> compressed;  // the `.z` sibling
  };
  struct SessionsTrackState {
    TrackProducer* producer = nullptr;
    SessionsTrack frames;
    std::unique_ptr<CompressedTrack> compressed;  // the `.z` sibling
  };
  struct Group {
    std::unique_ptr<BroadcastProducer> broadcast;
    std::map<std::string, Track> tracks;                 // traffic, by track name
    std::map<std::string, SessionsTrackState> sessions;  // by tier label
  };
  struct GroupEntries;

  // Writes `frame` on `producer` and the same value on its compressed
  // sibling (a sessions track).
  static void Write(TrackProducer* producer, CompressedTrack* compressed, std::string frame);
  // Writes a traffic track's frame, and its patch on the compressed sibling.
  static void WriteTraffic(Track& track, NodeFrame frame);
  // Whether some traffic track of `group` holds a path not let go.
  static bool Holds(const Group& group);
  // Reports of a group whose broadcast could not be announced (its path is
  // taken) wait for the next tick: the path table reports a change once.
  // TakeUndelivered adds them to this tick's `reports` (a newer report of
  // the same path wins); KeepUndelivered keeps those of `group`.
  void TakeUndelivered(std::vector<PathReport>* reports) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void KeepUndelivered(const std::string& group, const std::vector<PathReport>& reports)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes one tick's frames of `group`; returns how many.
  size_t TickGroup(Group& group, GroupEntries& entries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  explicit NodePublisher(Options options) : options_(std::move(options)) {}
  absl::StatusOr<Group> Announce(const Path& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleNext();

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Group> groups_ ABSL_GUARDED_BY(mu_);  // by group key
  // By (tier, path).
  std::map<std::pair<std::string, std::string>, PathReport> undelivered_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t frames_written_ ABSL_GUARDED_BY(mu_) = 0;
};

// The first `depth` segments of `path` (all of them when it has fewer): the
// group its traffic (or, for an auth root, its sessions) is published under.
Path NodeGroupOf(const Path& path, uint32_t depth);

// The name of a track of tier `label` ("" for the default tier): `name` or
// `<label>/<name>`.
std::string NodeTrackName(std::string_view label, std::string_view name);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_NODE_PUBLISHER_H_
