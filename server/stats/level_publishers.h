#ifndef MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHERS_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/path.h"
#include "common/scheduler.h"
#include "common/tick_wheel.h"
#include "origin/origin.h"
#include "server/stats/level.h"
#include "server/stats/level_publisher.h"
#include "server/stats/level_tree.h"

namespace moq_stats::server {

// Missed ticks are delayed, not bunched: a tick that runs later than this
// after its deadline sets the next deadline one interval after itself.
inline constexpr absl::Duration kMissedTickTolerance = absl::Milliseconds(5);

// Every level publisher (the per-level tick task) of one Stats, and every
// decision about them: start, tick, stop, and telling retention.
//
// Each level has a publisher slot, empty or holding one running
// LevelPublisher; this object owns the slots, the publishers in them, the
// tick wheel that schedules them and the self-counters.
//
//  - Start. The first track guard on a level (never a broadcast guard) calls
//    Ensure after counting its subscription open; an empty slot gets a new
//    publisher, whose first tick is immediate (within the wheel's 1 ms).
//  - Tick, every interval: announce the level's broadcast if not yet done,
//    then write a frame on each track whose snapshot changed.
//  - Linger. A tick that finds no open subscription in any (tier, role)
//    writes the frames of the closing counts (a final frame on each track
//    that changed) and keeps the broadcast announced and its tracks open
//    until the next tick, one interval, so that subscribers read those
//    frames before the broadcast ends. A subscription opened meanwhile
//    finds the slot full: the same publisher and broadcast carry on, not
//    announced again. Frames written by an idle tick (counts that moved
//    during the linger) start the linger over.
//  - Stop. The next idle tick that writes nothing drops the broadcast,
//    which unannounces it, and only then empties the slot, under this
//    object's lock and after checking once more. A guard whose Ensure comes
//    meanwhile either found the slot full before that lock, so the check
//    sees its subscription and the publisher goes on (announced again at
//    once), or finds the slot empty and the path already free: the fresh
//    publisher it starts is accepted by the origin.
//    Without the final frame and its linger a consumer's last frame could
//    still show the subscriptions open (a client may drop a group it has
//    not read yet when its subscription ends); a slot emptied before its
//    broadcast is dropped would let a fresh publisher be refused as a
//    duplicate, leaving its subscription unpublished.
//  - Refused. If the origin refuses the broadcast (another is active at the
//    path), the tick logs it, counts it in publishes_refused() and empties
//    the slot; the next track guard tries again.
//  - Retention. After a publisher stopped, this object tells the LevelTree
//    it was given (OnPublisherStopped), with no lock held.
//
// Edges: Stats owns the LevelTree and this object, which is given the tree.
// Levels are plain data: each running publisher holds its level; this
// object writes Level::set_publisher_running under its lock; the tree reads
// Level::publisher_running() and never calls back. Nothing points from a
// level or from the tree to a publisher.
//
// All ticks of all levels run on one Scheduler through one TickWheel: levels
// whose deadlines fall in the same millisecond tick together from one
// scheduler task. A scheduled tick names the slot it was scheduled for; once
// that slot was emptied (even if the level has a new publisher since), the
// tick does nothing.
//
// Safe for concurrent access from multiple threads without external
// synchronization. Lock order: a slot's lock (held through a tick,
// including the origin's work: announce, frames, unannounce and the
// consumers' notifications), then this object's lock (held only to fill or
// empty slots, or, shared, to look at them; nothing is locked under it).
// The LevelTree's lock is taken under neither.
class LevelPublishers : public std::enable_shared_from_this<LevelPublishers> {
 public:
  // What the publishers need; the pointers are borrowed and must outlive
  // this object.
  struct Options {
    Origin* origin = nullptr;
    Scheduler* scheduler = nullptr;
    const Clock* clock = nullptr;
    absl::Duration interval = absl::Seconds(1);
    Path node;  // empty: frames carry no "node"
  };

  static std::shared_ptr<LevelPublishers> Create(const Options& options, std::shared_ptr<LevelTree> tree);
  ~LevelPublishers();
  LevelPublishers(const LevelPublishers&) = delete;
  LevelPublishers& operator=(const LevelPublishers&) = delete;

  // Starts a publisher on each of `levels` whose slot is empty. Call after
  // counting the subscription open, while holding a handle on the levels.
  void Ensure(const std::vector<std::shared_ptr<Level>>& levels);

  // Runs one tick now on every running publisher, outside its schedule (a
  // final tick before shutdown). It counts as the next tick of a lingering
  // publisher: a linger with nothing new to write ends there, without
  // waiting out its interval. Returns how many ticked.
  size_t TickAll();

  // Self-counters.
  int64_t running() const { return running_.load(std::memory_order_relaxed); }
  uint64_t started() const { return started_.load(std::memory_order_relaxed); }
  uint64_t frames_written() const { return frames_written_.load(std::memory_order_relaxed); }
  // Scheduled level ticks run (stale ones included), and the time spent.
  uint64_t ticks() const { return ticks_.load(std::memory_order_relaxed); }
  absl::Duration tick_time() const { return absl::Nanoseconds(tick_nanos_.load(std::memory_order_relaxed)); }
  // Broadcasts the origin refused.
  uint64_t publishes_refused() const { return publishes_refused_.load(std::memory_order_relaxed); }

 private:
  // A full slot: the level's running publisher. Emptying the slot marks it
  // stopped, which makes its scheduled tick stale.
  // What a tick reads comes first, next to each other (see LevelPublisher).
  struct Slot {
    explicit Slot(std::shared_ptr<Level> l) : publisher(l), level(std::move(l)) {}
    absl::Mutex mu;
    bool stopped ABSL_GUARDED_BY(mu) = false;
    // The last tick found no open subscription and wrote the closing
    // counts (or found them written): the broadcast lingers until the next.
    bool lingering ABSL_GUARDED_BY(mu) = false;
    LevelPublisher publisher ABSL_GUARDED_BY(mu);
    const std::shared_ptr<Level> level;
  };
  // A slot waiting for its next tick.
  struct TickEntry {
    std::shared_ptr<Slot> slot;
    absl::Time deadline;
  };
  enum class TickResult { kStale, kTicked, kStopped };

  LevelPublishers(const Options& options, std::shared_ptr<LevelTree> tree);

  // Ticks the slots of one wheel slot and re-arms those still running.
  void TickDue(std::vector<TickEntry>& due);
  // One tick of `slot`, frames stamped `ts_ms`; tells the tree if it
  // stopped the publisher.
  TickResult Tick(Slot& slot, int64_t ts_ms);
  // The tick's work. Returns false once it emptied the slot.
  bool TickLocked(Slot& slot, int64_t ts_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);
  // Empties `slot` (its publisher unannounced), unless `keep_if_active` and
  // a subscription is open. Returns whether it did. The caller holds its own
  // reference to `slot`, so dropping the map's never destroys the slot (and
  // its locked mutex).
  bool EmptyLocked(Slot& slot, bool keep_if_active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);

  // Constant after construction (wheel_: after Create).
  const Options options_;
  const std::shared_ptr<LevelTree> tree_;
  std::shared_ptr<TickWheel<TickEntry>> wheel_;

  mutable absl::Mutex mu_;
  // The full slots, by level. An entry holds its level, so the key stays
  // that level's while the entry exists.
  absl::flat_hash_map<const Level*, std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);

  // Self-counters, relaxed: they order nothing else.
  std::atomic<int64_t> running_{0};
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> frames_written_{0};
  std::atomic<uint64_t> ticks_{0};
  std::atomic<uint64_t> tick_nanos_{0};
  std::atomic<uint64_t> publishes_refused_{0};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHERS_H_
