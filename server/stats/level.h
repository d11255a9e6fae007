#ifndef MOQ_STATS_SERVER_STATS_LEVEL_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "common/path.h"
#include "server/stats/counters.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

// One aggregation bucket: a level key (a prefix of broadcast paths, "" for
// the root), the path its stats broadcast is advertised at, and the four
// counter sets (one per tier and role). Plain data: it decides nothing.
//
// Two marks say what retention needs to know, each written by one owner:
//  - handles(): by LevelTree, as handle sets acquire and release the level;
//  - publisher_running(): by LevelPublishers, as it fills and empties the
//    level's publisher slot.
// Their writers take a non-const Level; the layers outside server/stats/
// only ever get `const Level`.
//
// Levels are created and owned by the LevelTree and shared with every handle
// and guard whose path passes through them. Safe for concurrent access from
// multiple threads without external synchronization.
class Level {
 public:
  // `created_unix_ms`: when this incarnation of the level was created, wall
  // clock milliseconds since the Unix epoch (see created_unix_ms()).
  Level(Path key, Path advertised, int64_t created_unix_ms);
  Level(const Level&) = delete;
  Level& operator=(const Level&) = delete;

  const Path& key() const { return key_; }
  const Path& advertised() const { return advertised_; }
  // When this incarnation of the level was created (wall clock, milliseconds
  // since the Unix epoch), kept across restarts by the checkpoint. A level
  // freed by retention and created again later has a later time: its
  // counters started again from zero then.
  int64_t created_unix_ms() const { return created_unix_ms_; }

  Counters& counters(Tier tier, Role role) { return counters_[TierRoleIndex(tier, role)]; }
  const Counters& counters(Tier tier, Role role) const { return counters_[TierRoleIndex(tier, role)]; }
  Counts snapshot(Tier tier, Role role) const { return counters(tier, role).Load(); }

  // True while any (tier, role) has an open subscription.
  bool any_active() const;

  // True while a tick publisher runs for this level (between its start and
  // the tick that stops it).
  bool publisher_running() const { return publisher_running_.load(std::memory_order_acquire); }
  // Written by LevelPublishers only, under its lock, when it fills or
  // empties the level's slot.
  void set_publisher_running(bool running) { publisher_running_.store(running, std::memory_order_release); }

  // Number of live handle sets (BroadcastStats and their guards) that
  // reference this level. Retention frees a level only when this is zero.
  int64_t handles() const { return handles_.load(std::memory_order_acquire); }
  // Written by LevelTree only: AddHandle under its lock, ReleaseHandle by a
  // releasing handle set. ReleaseHandle returns true when it took the count
  // to zero.
  void AddHandle() { handles_.fetch_add(1, std::memory_order_acq_rel); }
  bool ReleaseHandle() { return handles_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  // Constant after construction.
  const Path key_;
  const Path advertised_;
  const int64_t created_unix_ms_;

  std::array<Counters, kTierRoleCount> counters_;

  // Release on write, acquire on read, so that a reader that sees a mark
  // also sees what its writer did before (the tree's zero check sees every
  // release that came before it).
  std::atomic<bool> publisher_running_{false};
  std::atomic<int64_t> handles_{0};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_H_
