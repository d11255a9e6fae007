#ifndef MOQ_STATS_SERVER_STATS_LEVEL_TREE_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_TREE_H_

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/path.h"
#include "common/scheduler.h"
#include "server/stats/level.h"

namespace moq_stats::server {

// Every level of one Stats, by level key, and their retention.
//
// Handles take levels with Acquire and give them back with Release. A level
// that no handle references and whose publisher has stopped is freed once it
// has stayed so for the retention time, so memory follows the paths that are
// live, not every path ever seen. A path that comes back after its level was
// freed starts again from zero counters, as a new incarnation with a later
// Level::created_unix_ms(), so that consumers can tell. The root level is
// never freed, and a retention of zero keeps every level forever.
//
// The tree knows publishers only through Level::publisher_running(): the
// LevelPublishers of the same Stats tells it when one stopped
// (OnPublisherStopped), and it never calls back.
//
// Retention costs nothing while no level is idle: each transition to idle
// queues the level with its time, and one scheduler task, present only while
// the queue is not empty, frees what has been idle long enough.
//
// Safe for concurrent access from multiple threads without external
// synchronization. No other lock of the stats core is held when the tree's
// is taken, and only the scheduler's is taken under it.
class LevelTree : public std::enable_shared_from_this<LevelTree> {
 public:
  // `scheduler` and `clock` must outlive the tree.
  static std::shared_ptr<LevelTree> Create(Path prefix, Path node, absl::Duration retention, Scheduler* scheduler,
                                           const Clock* clock);
  LevelTree(const LevelTree&) = delete;
  LevelTree& operator=(const LevelTree&) = delete;

  // The levels of `keys`, created when missing (advertised under the tree's
  // prefix and node), each with one more handle counted.
  std::vector<std::shared_ptr<Level>> Acquire(const std::vector<Path>& keys);

  // The level of `key` as Acquire gives it, except that a level created by
  // this call takes `created_unix_ms` (a restored level keeps the time of its
  // incarnation; 0: now). An existing level keeps its own.
  std::shared_ptr<Level> AcquireRestored(const Path& key, int64_t created_unix_ms);

  // Reserves room for the levels of `keys` (distinct) that are missing, so
  // that they can be created later within `max_levels` (0: no limit) whatever
  // else is created meanwhile; RESOURCE_EXHAUSTED naming the limit when they
  // do not fit. Creates nothing. Returns how many were reserved, to give back
  // with Unreserve once they are created (or not needed).
  absl::StatusOr<uint64_t> Reserve(const std::vector<Path>& keys, uint64_t max_levels);
  void Unreserve(uint64_t count);

  // How many more levels Reserve can promise within `max_levels` (0: no
  // limit, the largest uint64_t): the limit less the levels held and the room
  // promised, or 0 when they reach it. Reserve refuses keys of which more
  // than this many are missing.
  uint64_t Room(uint64_t max_levels) const;

  // Gives back one handle on each of `levels` (as returned by Acquire).
  void Release(const std::vector<std::shared_ptr<Level>>& levels);

  // To be called (with no lock held) after `level`'s publisher stopped:
  // starts its retention if no handle references it.
  void OnPublisherStopped(const std::shared_ptr<Level>& level);

  // The level at `key`, or null.
  std::shared_ptr<Level> Find(const Path& key) const;

  // Up to `limit` levels whose key is `prefix` or under it, in key order,
  // after the key `after` (nullopt: from the first).
  std::vector<std::shared_ptr<Level>> List(const Path& prefix, const std::optional<Path>& after, size_t limit) const;

  size_t size() const;

  // Levels freed by retention so far.
  uint64_t freed() const;

 private:
  struct Entry {
    std::shared_ptr<Level> level;
    // When the level last became idle (no handles, publisher stopped);
    // matches the queue entry that may free it.
    absl::Time idle_since = absl::InfinitePast();
  };
  struct Idle {
    Path key;
    absl::Time since;
  };

  LevelTree(Path prefix, Path node, absl::Duration retention, Scheduler* scheduler, const Clock* clock);

  std::shared_ptr<Level> AcquireLocked(const Path& key, int64_t created_unix_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkIdleLocked(const std::shared_ptr<Level>& level) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleSweepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Sweep();

  // Constant after construction.
  const Path prefix_;
  const Path node_;
  const absl::Duration retention_;
  Scheduler* const scheduler_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  std::map<Path, Entry> levels_ ABSL_GUARDED_BY(mu_);
  std::deque<Idle> idle_ ABSL_GUARDED_BY(mu_);  // in `since` order
  bool sweep_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t freed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;  // room promised by Reserve
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_TREE_H_
