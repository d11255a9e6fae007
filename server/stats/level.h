#ifndef MOQ_STATS_SERVER_STATS_LEVEL_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/path.h"
#include "server/stats/counters.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

class LevelPublisher;

// One aggregation bucket: a level key (a prefix of broadcast paths, "" for
// the root), the path its stats broadcast is advertised at, the four counter
// sets (one per tier and role), and the slot of its tick publisher.
//
// Levels are created and owned by the LevelTree and shared with every handle
// and guard whose path passes through them. Safe for concurrent access from
// multiple threads without external synchronization.
class Level {
 public:
  Level(Path key, Path advertised);
  ~Level();
  Level(const Level&) = delete;
  Level& operator=(const Level&) = delete;

  const Path& key() const { return key_; }
  const Path& advertised() const { return advertised_; }

  Counters& counters(Tier tier, Role role) { return counters_[TierRoleIndex(tier, role)]; }
  const Counters& counters(Tier tier, Role role) const { return counters_[TierRoleIndex(tier, role)]; }
  Counts snapshot(Tier tier, Role role) const { return counters(tier, role).Load(); }

  // True while any (tier, role) has an open subscription.
  bool any_active() const;

  // True while a tick publisher runs for this level (between its start and
  // the tick that stops it).
  bool publisher_running() const { return publisher_running_.load(std::memory_order_acquire); }

  // Number of live handle sets (BroadcastStats and their guards) that
  // reference this level. Retention frees a level only when this is zero.
  int64_t handles() const { return handles_.load(std::memory_order_acquire); }

 private:
  friend class LevelTree;
  friend class LevelPublisher;

  // Constant after construction.
  const Path key_;
  const Path advertised_;

  std::array<Counters, kTierRoleCount> counters_;

  // The publisher slot (the original module's `task`): a track guard that
  // finds it empty starts a publisher; the publisher's last tick empties it.
  // Both happen under publisher_mu_, so a guard that races with a stopping
  // publisher either keeps it running or starts a new one.
  absl::Mutex publisher_mu_;
  std::unique_ptr<LevelPublisher> publisher_ ABSL_GUARDED_BY(publisher_mu_);
  // Mirrors `publisher_ != nullptr` for readers that must not take
  // publisher_mu_ (retention, metrics). Written under publisher_mu_ with
  // release, read with acquire.
  std::atomic<bool> publisher_running_{false};

  // Changed only by LevelTree: incremented under its lock, decremented by a
  // releasing handle set. Acquire/release so that the tree's zero check sees
  // every release that came before it.
  std::atomic<int64_t> handles_{0};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_H_
