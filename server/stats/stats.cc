#include "server/stats/stats.h"

#include <atomic>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/tier_label.h"
#include "server/stats/level_key.h"
#include "server/stats/level_publishers.h"
#include "server/stats/level_tree.h"

namespace moq_stats::server {
namespace internal {

// Everything an enabled Stats shares with its handles and guards.
struct StatsCore {
  Path prefix;
  uint32_t levels = 0;
  uint64_t max_levels = 0;
  std::shared_ptr<LevelTree> tree;
  std::shared_ptr<LevelPublishers> publishers;
  bool publish_levels = true;
  std::shared_ptr<PathTable> paths;         // null unless counting paths
  std::shared_ptr<PresenceTable> presence;  // null unless counting paths
  uint32_t max_tiers = 0;
  uint32_t max_session_roots = 0;
  // Relaxed: a self-counter that orders nothing.
  std::atomic<uint64_t> rejected_paths{0};
};

// Starts the publishers of `levels` that have open subscriptions, when the
// level format is published.
void EnsurePublishers(const StatsCore& core, const std::vector<std::shared_ptr<Level>>& levels) {
  if (core.publish_levels) core.publishers->Ensure(levels);
}

// The levels of one broadcast path in one tier, and its path entry when
// paths are counted, shared by a BroadcastStats, its copies and every guard
// opened from them. Holds one handle on each level and on the entry for as
// long as it lives.
struct LevelSet {
  LevelSet(std::shared_ptr<StatsCore> core, std::vector<std::shared_ptr<Level>> levels, Tier tier,
           std::shared_ptr<PathEntry> entry)
      : core(std::move(core)), levels(std::move(levels)), entry(std::move(entry)) {
    for (Role role : kRoles) {
      auto& out = counters[static_cast<size_t>(role)];
      out.reserve(this->levels.size() + 1);
      for (const auto& level : this->levels) out.push_back(&level->counters(tier, role));
      if (this->entry) out.push_back(&this->entry->counters(role));
    }
  }
  ~LevelSet() { core->tree->Release(levels); }
  LevelSet(const LevelSet&) = delete;
  LevelSet& operator=(const LevelSet&) = delete;

  const std::shared_ptr<StatsCore> core;
  const std::vector<std::shared_ptr<Level>> levels;
  const std::shared_ptr<PathEntry> entry;
  // Per role, the counters the bumps land on: one pointer per level, and
  // the path entry's last.
  std::array<std::vector<Counters*>, 2> counters;
};

const std::vector<Counters*>& CountersOf(const LevelSet& set, Role role) {
  return set.counters[static_cast<size_t>(role)];
}

void MarkPathChanged(const LevelSet& set) {
  if (set.entry) set.entry->MarkChanged();
}

}  // namespace internal

using internal::LevelSet;
using internal::StatsCore;

absl::Status ValidateStatsConfig(const StatsConfig& config) {
  if (config.levels == 0) return absl::OkStatus();
  if (absl::Status s = ValidatePath(config.prefix); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("stats prefix: ", s.message()));
  }
  if (Path(config.prefix).empty()) {
    return absl::InvalidArgumentError(
        "stats prefix must not be empty: every path would be under it, so nothing would be counted");
  }
  if (absl::Status s = ValidatePath(config.node); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("stats node: ", s.message()));
  }
  if (config.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stats interval must be positive, got ", absl::FormatDuration(config.interval)));
  }
  if (config.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stats retention must not be negative, got ", absl::FormatDuration(config.retention)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stats> Stats::Create(const StatsConfig& config, Origin* origin, Scheduler* scheduler,
                                    const Clock* clock) {
  if (absl::Status s = ValidateStatsConfig(config); !s.ok()) return s;
  if (config.levels == 0) return Disabled();
  if (origin == nullptr || scheduler == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("stats needs an origin, a scheduler and a clock");
  }
  const Path prefix(config.prefix);

  auto core = std::make_shared<StatsCore>();
  core->prefix = prefix;
  core->levels = config.levels;
  core->max_levels = config.max_levels;
  core->tree = LevelTree::Create(prefix, Path(config.node), config.retention, scheduler, clock);
  LevelPublishers::Options publishers;
  publishers.origin = origin;
  publishers.scheduler = scheduler;
  publishers.clock = clock;
  publishers.interval = config.interval;
  publishers.node = Path(config.node);
  core->publishers = LevelPublishers::Create(publishers, core->tree);
  core->publish_levels = config.publish_levels;
  if (config.count_paths) {
    core->paths = std::make_shared<PathTable>();
    core->presence = std::make_shared<PresenceTable>();
  }
  core->max_tiers = config.max_tiers;
  core->max_session_roots = config.max_session_roots;
  return Stats(std::move(core));
}

Stats Stats::Disabled() { return Stats(); }

const Path& Stats::prefix() const {
  static const Path* const kEmpty = new Path();
  return core_ ? core_->prefix : *kEmpty;
}

StatsHandle Stats::tier(Tier tier) const { return StatsHandle(*this, tier, TierLabelOf(tier)); }

StatsHandle Stats::tier(std::string_view label) const {
  if (label.empty()) return tier(Tier::kExternal);
  if (label == "internal") return tier(Tier::kInternal);
  return StatsHandle(*this, Tier::kExternal, std::string(label));
}

std::shared_ptr<const Level> Stats::level(const Path& key) const { return core_ ? core_->tree->Find(key) : nullptr; }

std::vector<std::shared_ptr<const Level>> Stats::ListLevels(const Path& prefix, const std::optional<Path>& after,
                                                            size_t limit) const {
  if (!core_) return {};
  auto levels = core_->tree->List(prefix, after, limit);
  return {levels.begin(), levels.end()};
}

size_t Stats::level_count() const { return core_ ? core_->tree->size() : 0; }

uint64_t Stats::levels_freed() const { return core_ ? core_->tree->freed() : 0; }

int64_t Stats::running_publishers() const { return core_ ? core_->publishers->running() : 0; }

uint64_t Stats::publishers_started() const { return core_ ? core_->publishers->started() : 0; }

uint64_t Stats::frames_written() const { return core_ ? core_->publishers->frames_written() : 0; }

uint64_t Stats::level_ticks() const { return core_ ? core_->publishers->ticks() : 0; }

absl::Duration Stats::tick_time() const { return core_ ? core_->publishers->tick_time() : absl::ZeroDuration(); }

uint64_t Stats::rejected_paths() const { return core_ ? core_->rejected_paths.load(std::memory_order_relaxed) : 0; }

uint64_t Stats::publishes_refused() const { return core_ ? core_->publishers->publishes_refused() : 0; }

const std::shared_ptr<PresenceTable>& Stats::presence() const {
  static const std::shared_ptr<PresenceTable>* const kNone = new std::shared_ptr<PresenceTable>();
  return core_ ? core_->presence : *kNone;
}

absl::Status Stats::CheckNewTiers(const std::vector<std::string>& labels,
                                  const std::vector<std::pair<std::string, std::string>>& roots) const {
  if (!core_ || !core_->paths) return absl::OkStatus();
  absl::flat_hash_set<std::string> named;
  for (std::string& label : core_->paths->tiers()) {
    if (IsNamedTier(label)) named.insert(std::move(label));
  }
  for (std::string& label : core_->presence->tiers()) {
    if (IsNamedTier(label)) named.insert(std::move(label));
  }
  auto admit = [&](const std::string& label) -> absl::Status {
    if (!IsNamedTier(label) || named.contains(label)) return absl::OkStatus();
    if (named.size() >= core_->max_tiers) {
      return absl::ResourceExhaustedError(absl::StrCat("tier \"", label, "\" would be named tier ", named.size() + 1,
                                                       "; the sidecar holds at most ", core_->max_tiers,
                                                       " named tiers at once (--max-tiers)"));
    }
    named.insert(label);
    return absl::OkStatus();
  };
  for (const std::string& label : labels) {
    if (absl::Status s = admit(label); !s.ok()) return s;
  }
  absl::flat_hash_set<std::pair<std::string, std::string>> added;
  size_t held = core_->presence->size();
  for (const auto& pair : roots) {
    if (absl::Status s = admit(pair.first); !s.ok()) return s;
    if (core_->presence->Contains(pair.first, pair.second) || !added.insert(pair).second) continue;
    if (held + added.size() > core_->max_session_roots) {
      return absl::ResourceExhaustedError(absl::StrCat("auth root \"", pair.second, "\" (tier \"", pair.first,
                                                       "\") would be session root ", held + added.size(),
                                                       "; the sidecar holds at most ", core_->max_session_roots,
                                                       " (tier, auth root) pairs at once (--max-session-roots)"));
    }
  }
  return absl::OkStatus();
}

const std::shared_ptr<PathTable>& Stats::paths() const {
  static const std::shared_ptr<PathTable>* const kNone = new std::shared_ptr<PathTable>();
  return core_ ? core_->paths : *kNone;
}

size_t Stats::TickAll() const { return core_ ? core_->publishers->TickAll() : 0; }

absl::StatusOr<Stats::LevelReservation> Stats::ReserveLevels(const std::vector<Path>& paths) const {
  if (!core_ || core_->max_levels == 0) return LevelReservation();
  absl::flat_hash_set<Path> keys;
  for (const Path& path : paths) {
    if (path.has_prefix(core_->prefix)) continue;
    for (Path& key : LevelKeys(path, core_->levels)) keys.insert(std::move(key));
  }
  absl::StatusOr<uint64_t> reserved =
      core_->tree->Reserve(std::vector<Path>(keys.begin(), keys.end()), core_->max_levels);
  if (!reserved.ok()) return reserved.status();
  return LevelReservation(core_, *reserved);
}

std::vector<Path> Stats::LevelKeysOf(const Path& path) const {
  if (!core_ || path.has_prefix(core_->prefix)) return {};
  return LevelKeys(path, core_->levels);
}

std::optional<uint64_t> Stats::LevelRoom() const {
  if (!core_ || core_->max_levels == 0) return std::nullopt;
  return core_->tree->Room(core_->max_levels);
}

Stats::LevelReservation& Stats::LevelReservation::operator=(LevelReservation&& other) noexcept {
  if (this != &other) {
    if (core_ && count_) core_->tree->Unreserve(count_);
    core_ = std::move(other.core_);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

Stats::LevelReservation::~LevelReservation() {
  if (core_ && count_) core_->tree->Unreserve(count_);
}

void Stats::RestoreLevel(const Path& key, const std::array<Counts, kTierRoleCount>& counts,
                         int64_t created_unix_ms) const {
  if (!core_) return;
  std::vector<std::shared_ptr<Level>> levels = {core_->tree->AcquireRestored(key, created_unix_ms)};
  const std::shared_ptr<Level>& level = levels.front();
  for (size_t i = 0; i < kTierRoleCount; ++i) {
    level->counters(TierAt(i), RoleAt(i)).Add(counts[i]);
  }
  if (level->any_active()) EnsurePublishers(*core_, levels);
  core_->tree->Release(levels);
}

BroadcastStats StatsHandle::broadcast(std::string_view raw) const {
  const std::shared_ptr<StatsCore>& core = stats_.core_;
  if (!core) return {};
  if (!ValidatePath(raw).ok()) {
    core->rejected_paths.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  Path path(raw);
  // Our own stats broadcasts (and any sibling category under the prefix)
  // must not feed back into the aggregator.
  if (path.has_prefix(core->prefix)) return {};
  if (IsNamedTier(label_)) {
    // A tier the level format has no field for: counted in the path table
    // alone.
    if (!core->paths) return {};
    return BroadcastStats(std::make_shared<const LevelSet>(core, std::vector<std::shared_ptr<Level>>(), tier_,
                                                           core->paths->Acquire(label_, path)),
                          tier_);
  }
  std::vector<std::shared_ptr<Level>> levels = core->tree->Acquire(LevelKeys(path, core->levels));
  std::shared_ptr<PathEntry> entry = core->paths ? core->paths->Acquire(label_, path) : nullptr;
  return BroadcastStats(std::make_shared<const LevelSet>(core, std::move(levels), tier_, std::move(entry)), tier_);
}

std::vector<std::shared_ptr<const Level>> BroadcastStats::levels() const {
  if (!levels_) return {};
  return {levels_->levels.begin(), levels_->levels.end()};
}

PublisherStats BroadcastStats::publisher() const { return PublisherStats(*this); }

SubscriberStats BroadcastStats::subscriber() const { return SubscriberStats(*this); }

PublisherTrack BroadcastStats::publisher_track(std::string_view) const {
  OpenTrack(Role::kPublisher);
  return PublisherTrack(*this);
}

SubscriberTrack BroadcastStats::subscriber_track(std::string_view) const {
  OpenTrack(Role::kSubscriber);
  return SubscriberTrack(*this);
}

void BroadcastStats::OpenTrack(Role role) const {
  if (!levels_) return;
  for (Counters* c : internal::CountersOf(*levels_, role)) c->OpenSubscription();
  internal::MarkPathChanged(*levels_);
  EnsurePublishers(*levels_->core, levels_->levels);
}

void BroadcastStats::Apply(Role role, const Counts& delta) const {
  if (!levels_ || delta.empty()) return;
  for (Counters* c : internal::CountersOf(*levels_, role)) c->Add(delta);
  internal::MarkPathChanged(*levels_);
  if (delta.subscriptions > 0) EnsurePublishers(*levels_->core, levels_->levels);
}

template <Role R>
BroadcastGuard<R>::BroadcastGuard(BroadcastStats handle) : handle_(std::move(handle)) {
  if (handle_.empty()) return;
  for (Counters* c : internal::CountersOf(*handle_.levels_, R)) c->OpenBroadcast();
  internal::MarkPathChanged(*handle_.levels_);
}

template <Role R>
void BroadcastGuard<R>::Close() {
  if (handle_.empty()) return;
  for (Counters* c : internal::CountersOf(*handle_.levels_, R)) c->CloseBroadcast();
  internal::MarkPathChanged(*handle_.levels_);
  handle_ = {};
}

template <Role R>
TrackGuard<R> BroadcastGuard<R>::track(std::string_view name) const {
  if constexpr (R == Role::kPublisher) {
    return handle_.publisher_track(name);
  } else {
    return handle_.subscriber_track(name);
  }
}

template class BroadcastGuard<Role::kPublisher>;
template class BroadcastGuard<Role::kSubscriber>;

}  // namespace moq_stats::server
