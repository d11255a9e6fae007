#ifndef MOQ_STATS_SERVER_STATS_STATS_H_
#define MOQ_STATS_SERVER_STATS_STATS_H_

// The stats aggregator: per-broadcast counter bumps aggregated into
// per-prefix levels, each level publishing its counters as a MoQ broadcast
// `<prefix>/prefix/<level>/<node>` with four JSON tracks while it has open
// subscriptions.
//
//   Stats stats = *Stats::Create(config, &origin, &scheduler, Clock::Real());
//   BroadcastStats bs = stats.tier(Tier::kExternal).broadcast("anon/bbb");
//   PublisherStats publisher = bs.publisher();     // broadcasts += 1
//   PublisherTrack track = publisher.track("video");  // subscriptions += 1
//   track.bytes(1200); track.frame(); track.group();
//   // dropping the guards counts subscriptions_closed, broadcasts_closed
//
// Every bump lands on every level of the broadcast's path (see LevelKeys).
// Paths under the configured prefix give empty handles whose bumps do
// nothing, so serving a stats broadcast never counts as traffic. A disabled
// aggregator (levels = 0) allocates nothing and starts nothing.
//
// Besides the guards, BroadcastStats::Apply takes a batch (Counts) of guard
// opens and closes and counter sums: that is how the relays' counts arrive in
// the sidecar, and it has the same effect as the guards it stands for.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/path.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "server/stats/counters.h"
#include "server/stats/level.h"
#include "server/stats/path_table.h"
#include "server/stats/presence_table.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

namespace internal {
struct StatsCore;
struct LevelSet;
}  // namespace internal

// How an aggregator is set up.
struct StatsConfig {
  // Top-level path the stats broadcasts are published under. Must not be
  // empty while levels > 0: every path would be under it and count nothing.
  std::string prefix = ".stats";
  // Depth of aggregation: the root plus up to `levels` leading segments of
  // each path. 0 disables the aggregator.
  uint32_t levels = 1;
  // Suffix that tells apart the broadcasts of relays sharing a cluster
  // origin; may have several segments; empty means none.
  std::string node;
  // Time between two ticks of a level's publisher.
  absl::Duration interval = absl::Seconds(1);
  // How long an unreferenced, stopped level is kept before it is freed.
  absl::Duration retention = absl::Seconds(60);
  // Most levels held at once; 0 for no limit. Enforced by
  // Stats::ReserveLevels, which callers use before creating levels
  // (broadcast() itself never refuses a path for want of room).
  uint64_t max_levels = 0;
  // Publish the level broadcasts (the level format). Off, levels are still
  // counted (gRPC, checkpoints) but no level publisher starts.
  bool publish_levels = true;
  // Also count each (path, tier) on its own, for the node format
  // (Stats::paths()).
  bool count_paths = false;
  // With count_paths: the most named tiers (other than the default tier and
  // "internal") and (tier, auth root) pairs of session presence held at
  // once; CheckNewTiers refuses more.
  uint32_t max_tiers = 16;
  uint32_t max_session_roots = 4096;
};

// Checks `config` as Stats::Create does, and nothing else: no origin,
// scheduler or clock is needed, and nothing is allocated or started. OK for a
// disabled config (levels = 0) whatever its other settings; otherwise
// INVALID_ARGUMENT naming the first bad setting (prefix, node, interval,
// retention).
absl::Status ValidateStatsConfig(const StatsConfig& config);

class StatsHandle;
class BroadcastStats;

// The top-level aggregator. Cheap to copy (shared state inside); copies share
// everything. Safe for concurrent access from multiple threads without
// external synchronization.
class Stats {
 public:
  // Validates `config` with ValidateStatsConfig (INVALID_ARGUMENT naming the
  // setting otherwise). The origin, scheduler and clock are borrowed: they
  // must outlive this Stats, every copy of it and every handle and guard made
  // from it.
  static absl::StatusOr<Stats> Create(const StatsConfig& config, Origin* origin, Scheduler* scheduler,
                                      const Clock* clock);

  // The no-op aggregator: every bump through it is dropped, nothing is
  // allocated per path and no publisher ever starts.
  static Stats Disabled();

  // Same as Disabled().
  Stats() = default;

  bool enabled() const { return core_ != nullptr; }

  // The configured top-level prefix (empty when disabled).
  const Path& prefix() const;

  // A handle whose bumps land in `tier`'s counters.
  StatsHandle tier(Tier tier) const;
  // A handle on the tier labelled `label` (normalised, NormalizeTierLabel):
  // "" and "internal" are tier(Tier); a named tier counts in no level, only
  // in the path table (an empty handle when paths are not counted).
  StatsHandle tier(std::string_view label) const;

  // Read side.
  // The level at `key` ("" is the root), or null when it does not exist.
  std::shared_ptr<const Level> level(const Path& key) const;
  // Up to `limit` levels at or under `prefix`, in key order, after the key
  // `after` (nullopt: from the first).
  std::vector<std::shared_ptr<const Level>> ListLevels(const Path& prefix, const std::optional<Path>& after,
                                                       size_t limit) const;
  size_t level_count() const;
  // Levels freed by retention so far.
  uint64_t levels_freed() const;
  int64_t running_publishers() const;
  uint64_t publishers_started() const;
  uint64_t frames_written() const;
  // Level ticks run so far, and the time spent running them.
  uint64_t level_ticks() const;
  absl::Duration tick_time() const;
  // Paths refused by broadcast() because ValidatePath failed.
  uint64_t rejected_paths() const;
  // Level broadcasts the origin refused because another broadcast held the
  // advertised path (the next track guard on the level tries again).
  uint64_t publishes_refused() const;

  // The per-(path, tier) counters when config.count_paths is set, else null.
  const std::shared_ptr<PathTable>& paths() const;
  // The per-(tier, auth root) session presence, alongside paths(); null
  // unless config.count_paths is set.
  const std::shared_ptr<PresenceTable>& presence() const;
  // OK when `labels` (normalised) and the (tier, root) pairs `roots` of
  // presence fit beside what the tables hold now: at most max_tiers named
  // tiers and max_session_roots pairs. RESOURCE_EXHAUSTED naming the first
  // that does not fit, and the limit, otherwise. Always OK when paths are
  // not counted (nothing is kept per tier then).
  absl::Status CheckNewTiers(const std::vector<std::string>& labels,
                             const std::vector<std::pair<std::string, std::string>>& roots) const;

  // Runs one tick now on every running publisher, so their latest counts are
  // written (a final tick before shutdown; a lingering broadcast with
  // nothing new to write ends there). Returns how many ticked.
  size_t TickAll() const;

  // Room for the levels broadcast() would create for `paths` (valid paths),
  // held until the reservation is destroyed: levels created meanwhile by
  // anyone else cannot take it. RESOURCE_EXHAUSTED naming max_levels when
  // they do not fit. Creates nothing, so a caller can check a whole batch
  // before applying any of it.
  class LevelReservation;
  absl::StatusOr<LevelReservation> ReserveLevels(const std::vector<Path>& paths) const;
  // What ReserveLevels weighs, for a caller that must tell which of its paths
  // do not fit. The keys of the levels broadcast() holds for `path` (a valid
  // path), root first; none under the prefix or when disabled.
  std::vector<Path> LevelKeysOf(const Path& path) const;
  // How many more levels ReserveLevels can promise now: it refuses paths
  // whose missing levels are more. nullopt when there is no limit. Levels
  // created or promised meanwhile change it.
  std::optional<uint64_t> LevelRoom() const;

  // Adds `counts` (indexed by TierRoleIndex) to the level at `key`, creating
  // it if missing, and starts its publisher if a subscription is open. For
  // restoring a checkpoint into a fresh aggregator. A level it creates takes
  // `created_unix_ms` as its creation time (0: now), so that a restart does
  // not make it look like a new incarnation. No-op when disabled.
  void RestoreLevel(const Path& key, const std::array<Counts, kTierRoleCount>& counts,
                    int64_t created_unix_ms = 0) const;

 private:
  friend class StatsHandle;
  explicit Stats(std::shared_ptr<internal::StatsCore> core) : core_(std::move(core)) {}

  std::shared_ptr<internal::StatsCore> core_;
};

// Room promised by Stats::ReserveLevels; gives it back when destroyed.
// Move-only.
class Stats::LevelReservation {
 public:
  LevelReservation() = default;
  LevelReservation(LevelReservation&& other) noexcept
      : core_(std::move(other.core_)), count_(std::exchange(other.count_, 0)) {}
  LevelReservation& operator=(LevelReservation&& other) noexcept;
  LevelReservation(const LevelReservation&) = delete;
  LevelReservation& operator=(const LevelReservation&) = delete;
  ~LevelReservation();

 private:
  friend class Stats;
  LevelReservation(std::shared_ptr<internal::StatsCore> core, uint64_t count) : core_(std::move(core)), count_(count) {}
  std::shared_ptr<internal::StatsCore> core_;
  uint64_t count_ = 0;
};

template <Role R>
class BroadcastGuard;
template <Role R>
class TrackGuard;

// Broadcast guards: count `broadcasts` when opened, `broadcasts_closed` when
// dropped.
using PublisherStats = BroadcastGuard<Role::kPublisher>;
using SubscriberStats = BroadcastGuard<Role::kSubscriber>;
// Track guards: count `subscriptions` when opened (starting the levels'
// publishers), `subscriptions_closed` when dropped, and carry the bumps.
using PublisherTrack = TrackGuard<Role::kPublisher>;
using SubscriberTrack = TrackGuard<Role::kSubscriber>;

// A tier-scoped handle on a Stats. Cheap to copy; safe for concurrent use.
class StatsHandle {
 public:
  // A no-op handle, as Stats::Disabled().tier(Tier::kExternal).
  StatsHandle() = default;

  Tier tier() const { return tier_; }
  // The tier's label: "", "internal" or a named tier.
  const std::string& label() const { return label_; }
  const Stats& parent() const { return stats_; }

  // The per-broadcast handle for `path` (normalised as Path does). Empty when
  // the path is under the configured prefix, when the aggregator is disabled
  // or when the path is not one ValidatePath accepts (not UTF-8, longer than
  // 1024 bytes or more than 32 segments).
  BroadcastStats broadcast(std::string_view path) const;

 private:
  friend class Stats;
  StatsHandle(Stats stats, Tier tier, std::string label)
      : stats_(std::move(stats)), tier_(tier), label_(std::move(label)) {}

  Stats stats_;
  Tier tier_ = Tier::kExternal;
  std::string label_;
};

// A per-broadcast, tier-scoped handle: the levels of one path. Cheap to copy
// (copies share the levels); keeps those levels from being freed while it or
// any guard opened from it lives. Safe for concurrent use.
class BroadcastStats {
 public:
  // An empty handle.
  BroadcastStats() = default;

  // True when this handle covers no level; every bump through it is a no-op.
  bool empty() const { return levels_ == nullptr; }
  Tier tier() const { return tier_; }

  // The levels this handle's bumps land on, root first.
  std::vector<std::shared_ptr<const Level>> levels() const;

  // Opens a broadcast guard for the publisher (egress) or subscriber
  // (ingress) role.
  [[nodiscard]] PublisherStats publisher() const;
  [[nodiscard]] SubscriberStats subscriber() const;

  // Opens a track guard without counting a broadcast, for when the
  // broadcast's lifetime is counted by a guard held elsewhere. `name` is
  // reserved for per-track counters; counters are per level only.
  [[nodiscard]] PublisherTrack publisher_track(std::string_view name) const;
  [[nodiscard]] SubscriberTrack subscriber_track(std::string_view name) const;

  // Applies a batch of `role` bumps, with the effect of the guards it stands
  // for: a delta that opens subscriptions starts the levels' publishers.
  void Apply(Role role, const Counts& delta) const;

 private:
  template <Role R>
  friend class BroadcastGuard;
  template <Role R>
  friend class TrackGuard;
  friend class StatsHandle;
  BroadcastStats(std::shared_ptr<const internal::LevelSet> levels, Tier tier)
      : levels_(std::move(levels)), tier_(tier) {}

  // Counts a subscription open on every level and starts their publishers.
  void OpenTrack(Role role) const;

  std::shared_ptr<const internal::LevelSet> levels_;
  Tier tier_ = Tier::kExternal;
};

namespace internal {

// The `role` counters, in the set's tier, of each level of `set`, and of
// its path entry last.
const std::vector<Counters*>& CountersOf(const LevelSet& set, Role role);
// Puts the set's path entry, if any, in the path table's next report: called
// after every bump through CountersOf.
void MarkPathChanged(const LevelSet& set);

}  // namespace internal

// RAII broadcast guard (PublisherStats / SubscriberStats). Move-only: the
// guard is the one record of an open broadcast, and each open is closed
// exactly once. Use from one thread at a time.
template <Role R>
class [[nodiscard]] BroadcastGuard {
 public:
  BroadcastGuard() = default;
  BroadcastGuard(BroadcastGuard&& other) noexcept : handle_(std::move(other.handle_)) { other.handle_ = {}; }
  BroadcastGuard& operator=(BroadcastGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      other.handle_ = {};
    }
    return *this;
  }
  BroadcastGuard(const BroadcastGuard&) = delete;
  BroadcastGuard& operator=(const BroadcastGuard&) = delete;
  ~BroadcastGuard() { Close(); }

  // Opens a track guard under this broadcast (subscriptions += 1).
  [[nodiscard]] TrackGuard<R> track(std::string_view name) const;

 private:
  friend class BroadcastStats;
  explicit BroadcastGuard(BroadcastStats handle);
  void Close();

  BroadcastStats handle_;
};

// RAII track guard (PublisherTrack / SubscriberTrack). Move-only, like
// BroadcastGuard. The bumps are relaxed atomic adds on each level's counters;
// they may be called from any thread.
template <Role R>
class [[nodiscard]] TrackGuard {
 public:
  TrackGuard() = default;
  TrackGuard(TrackGuard&& other) noexcept : handle_(std::move(other.handle_)) { other.handle_ = {}; }
  TrackGuard& operator=(TrackGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      other.handle_ = {};
    }
    return *this;
  }
  TrackGuard(const TrackGuard&) = delete;
  TrackGuard& operator=(const TrackGuard&) = delete;
  ~TrackGuard() { Close(); }

  // frames += 1
  void frame() const {
    Bump([](Counters& c) { c.AddFrames(1); });
  }
  // bytes += n
  void bytes(uint64_t n) const {
    Bump([n](Counters& c) { c.AddBytes(n); });
  }
  // groups += 1
  void group() const {
    Bump([](Counters& c) { c.AddGroups(1); });
  }

 private:
  friend class BroadcastStats;
  explicit TrackGuard(BroadcastStats handle) : handle_(std::move(handle)) {}

  template <typename Fn>
  void Bump(Fn&& fn) const {
    if (handle_.empty()) return;
    for (Counters* c : internal::CountersOf(*handle_.levels_, R)) fn(*c);
    internal::MarkPathChanged(*handle_.levels_);
  }
  void Close() {
    if (handle_.empty()) return;
    Bump([](Counters& c) { c.CloseSubscription(); });
    handle_ = {};
  }

  BroadcastStats handle_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_STATS_H_
