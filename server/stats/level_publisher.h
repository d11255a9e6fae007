#ifndef MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "common/path.h"
#include "origin/origin.h"
#include "server/stats/counters.h"
#include "server/stats/level.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

// The broadcast of one level while its publisher runs: published at the
// level's advertised path with the four tracks publisher.json,
// subscriber.json, internal/publisher.json and internal/subscriber.json, and
// the last snapshot written on each track, so that a tick writes a frame on
// a track only when that (tier, role)'s snapshot changed. An idle level thus
// costs a few atomic loads per tick.
//
// This is the work of one tick, not its schedule: when to start, tick and
// stop is decided by LevelPublishers, which owns every LevelPublisher.
//
// Not thread-safe: LevelPublishers calls it under the level's slot lock.
class LevelPublisher {
 public:
  explicit LevelPublisher(std::shared_ptr<Level> level);
  // Drops the broadcast if still announced (see Unannounce).
  ~LevelPublisher();
  // Not copyable: it is the one owner of the level's broadcast.
  LevelPublisher(const LevelPublisher&) = delete;
  LevelPublisher& operator=(const LevelPublisher&) = delete;

  const std::shared_ptr<Level>& level() const { return level_; }
  bool announced() const { return broadcast_ != nullptr; }

  // Publishes the level's broadcast and its four tracks in `origin`. The
  // origin's error (ALREADY_EXISTS while another broadcast holds the path)
  // when it refuses. Requires !announced().
  absl::Status Announce(Origin& origin);

  // Writes a frame stamped `ts_ms` (with `node`, empty for none) on every
  // track whose snapshot changed since the last frame written there, every
  // track the first time. Returns how many frames it wrote. Requires
  // announced().
  size_t WriteChanged(const Path& node, int64_t ts_ms);

  // Drops the broadcast: the origin unannounces it and ends its tracks.
  void Unannounce();

 private:
  // What an idle tick reads comes first and is packed (no std::optional
  // padding): at 100k levels a tick's cost is the cache lines it touches.
  const std::shared_ptr<Level> level_;
  std::unique_ptr<BroadcastProducer> broadcast_;
  // The last snapshot written on each track, valid where written_ is set.
  std::array<Counts, kTierRoleCount> last_{};
  std::array<bool, kTierRoleCount> written_{};
  // Owned by broadcast_.
  std::array<TrackProducer*, kTierRoleCount> tracks_{};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_
