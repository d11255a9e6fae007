#ifndef MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/path.h"
#include "common/scheduler.h"
#include "common/tick_wheel.h"
#include "origin/origin.h"
#include "server/stats/counters.h"
#include "server/stats/level.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

// Missed ticks are delayed, not bunched: a tick that runs later than this
// after its deadline sets the next deadline one interval after itself.
inline constexpr absl::Duration kMissedTickTolerance = absl::Milliseconds(5);

// The per-level tick publisher (the original module's snapshot task).
//
// Started by the first track guard on a level (never by a broadcast guard),
// it publishes the level's broadcast at its advertised path with the four
// tracks publisher.json, subscriber.json, internal/publisher.json and
// internal/subscriber.json, then ticks every interval, the first tick
// immediately. On each tick it writes a frame on a track only when that
// (tier, role)'s snapshot changed since the last frame it wrote there, so an
// idle level costs a few atomic loads per tick.
//
// Once no (tier, role) has an open subscription it stops: the broadcast is
// dropped, which unannounces it. Two things differ from the original module:
//  1. Before stopping it writes one last frame on every track whose snapshot
//     changed, so consumers see the closing counts (the original never wrote
//     them: its last frame still showed the subscriptions open).
//  2. It unannounces before it empties the level's publisher slot, under the
//     slot's lock. A guard that opens meanwhile waits for the lock and then
//     starts a fresh publisher, whose broadcast the origin accepts. (The
//     original dropped its broadcast after emptying the slot, so a publisher
//     started in that window could be refused as a duplicate and the new
//     subscription left unpublished.)
//
// If the origin refuses the broadcast (another is active at the path), the
// publisher logs it and empties the slot, as the original does; the next
// track guard tries again.
//
// All ticks of all levels run on one Scheduler, through one TickWheel per
// Stats: levels whose deadlines fall in the same millisecond tick together
// from one scheduler task. Ticks hold the level's publisher lock; nothing
// else of the level is locked by them.
class LevelPublisher {
 public:
  // A level waiting for its next tick.
  struct TickEntry {
    std::shared_ptr<Level> level;
    uint64_t generation = 0;
    absl::Time deadline;
  };

  // What every publisher of one Stats shares. Held by shared_ptr; the
  // pointers it borrows must outlive it. Create with NewContext.
  struct Context {
    Origin* origin = nullptr;
    Scheduler* scheduler = nullptr;
    const Clock* clock = nullptr;
    absl::Duration interval = absl::Seconds(1);
    Path node;  // empty: frames carry no "node"
    // Called after a publisher stopped, under the level's publisher lock.
    std::function<void(const std::shared_ptr<Level>&)> on_stopped;

    std::shared_ptr<TickWheel<TickEntry>> wheel;

    // Self-counters, relaxed: they order nothing else.
    std::atomic<int64_t> running{0};
    std::atomic<uint64_t> ticks{0};       // level ticks run
    std::atomic<uint64_t> tick_nanos{0};  // time spent in them
    std::atomic<uint64_t> started{0};
    std::atomic<uint64_t> frames_written{0};
    std::atomic<uint64_t> publish_refused{0};
  };

  ~LevelPublisher();
  LevelPublisher(const LevelPublisher&) = delete;
  LevelPublisher& operator=(const LevelPublisher&) = delete;

  // A context with its tick wheel (ticks are batched per millisecond). Fill
  // in the other fields before the first Ensure.
  static std::shared_ptr<Context> NewContext(Scheduler* scheduler);

  // Starts the level's publisher unless one is running (the original
  // module's ensure_task). Call after counting the subscription open.
  static void Ensure(const std::shared_ptr<Level>& level, const std::shared_ptr<Context>& context);

  // Runs one tick of the level's publisher now, outside its schedule, if one
  // is running (a final tick before shutdown). Returns whether one ran.
  static bool TickNow(const std::shared_ptr<Level>& level, const std::shared_ptr<Context>& context);

 private:
  explicit LevelPublisher(uint64_t generation) : generation_(generation) {}

  // Ticks every level of one wheel slot and re-arms those still running.
  static void TickDue(Context& context, std::vector<TickEntry>& due);
  // One tick's work under the level's publisher lock; frames are stamped
  // `ts_ms`. Returns false when the publisher stopped (slot emptied).
  static bool TickLocked(const std::shared_ptr<Level>& level, Context& context, int64_t ts_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(level->publisher_mu_);
  static void StopLocked(const std::shared_ptr<Level>& level, Context& context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(level->publisher_mu_);

  // Publishes the level's broadcast and its four tracks.
  absl::Status Announce(const Level& level, Origin& origin);
  // Writes a frame on every track whose snapshot changed since its last.
  void WriteChanged(const Level& level, Context& context, int64_t ts_ms);

  // Distinguishes this publisher from later ones on the same level, so a
  // stale scheduled tick does nothing.
  const uint64_t generation_;
  std::unique_ptr<BroadcastProducer> broadcast_;
  std::array<TrackProducer*, kTierRoleCount> tracks_{};
  std::array<std::optional<Counts>, kTierRoleCount> last_{};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_PUBLISHER_H_
