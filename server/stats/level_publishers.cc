#include "server/stats/level_publishers.h"

#include <chrono>
#include <utility>

#include "common/logging.h"

namespace moq_stats::server {
namespace {

// Levels whose deadlines fall in the same millisecond tick together.
constexpr absl::Duration kTickGranularity = absl::Milliseconds(1);

}  // namespace

std::shared_ptr<LevelPublishers> LevelPublishers::Create(const Options& options, std::shared_ptr<LevelTree> tree) {
  std::shared_ptr<LevelPublishers> publishers(new LevelPublishers(options, std::move(tree)));
  publishers->wheel_ =
      TickWheel<TickEntry>::Create(options.scheduler, kTickGranularity,
                                   [weak = publishers->weak_from_this()](std::vector<TickEntry>& due, absl::Time) {
                                     if (auto publishers = weak.lock()) publishers->TickDue(due);
                                   });
  return publishers;
}

LevelPublishers::LevelPublishers(const Options& options, std::shared_ptr<LevelTree> tree)
    : options_(options), tree_(std::move(tree)) {}

LevelPublishers::~LevelPublishers() = default;

void LevelPublishers::Ensure(const std::vector<std::shared_ptr<Level>>& levels) {
  {
    // The usual case, a track on a live path: every slot is full.
    absl::ReaderMutexLock lock(&mu_);
    bool all_full = true;
    for (const auto& level : levels) {
      if (!slots_.contains(level.get())) {
        all_full = false;
        break;
      }
    }
    if (all_full) return;
  }
  std::vector<std::shared_ptr<Slot>> filled;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& level : levels) {
      auto [it, inserted] = slots_.try_emplace(level.get());
      if (!inserted) continue;
      it->second = std::make_shared<Slot>(level);
      level->set_publisher_running(true);
      filled.push_back(it->second);
    }
    running_.fetch_add(static_cast<int64_t>(filled.size()), std::memory_order_relaxed);
  }
  started_.fetch_add(filled.size(), std::memory_order_relaxed);
  // The first tick is immediate. Added outside the lock: the scheduler may
  // run it on another thread at once.
  const absl::Time now = options_.clock->Now();
  for (auto& slot : filled) wheel_->Add(now, TickEntry{std::move(slot), now});
}

size_t LevelPublishers::TickAll() {
  std::vector<std::shared_ptr<Slot>> full;
  {
    absl::ReaderMutexLock lock(&mu_);
    full.reserve(slots_.size());
    for (const auto& [level, slot] : slots_) full.push_back(slot);
  }
  const int64_t ts_ms = options_.clock->UnixMillis();
  size_t ticked = 0;
  for (const auto& slot : full) ticked += Tick(*slot, ts_ms) != TickResult::kStale ? 1 : 0;
  return ticked;
}

void LevelPublishers::TickDue(std::vector<TickEntry>& due) {
  const auto started = std::chrono::steady_clock::now();
  const absl::Time now = options_.clock->Now();
  const int64_t ts_ms = options_.clock->UnixMillis();
  for (TickEntry& entry : due) {
    if (Tick(*entry.slot, ts_ms) != TickResult::kTicked) continue;
    // Missed ticks are delayed, not bunched.
    absl::Time next = entry.deadline + options_.interval;
    if (now > entry.deadline + kMissedTickTolerance) next = now + options_.interval;
    entry.deadline = next;
    wheel_->Add(next, std::move(entry));
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ticks_.fetch_add(due.size(), std::memory_order_relaxed);
  tick_nanos_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
                        std::memory_order_relaxed);
}

LevelPublishers::TickResult LevelPublishers::Tick(Slot& slot, int64_t ts_ms) {
  {
    absl::MutexLock lock(&slot.mu);
    if (slot.stopped) return TickResult::kStale;
    if (TickLocked(slot, ts_ms)) return TickResult::kTicked;
  }
  tree_->OnPublisherStopped(slot.level);
  return TickResult::kStopped;
}

bool LevelPublishers::TickLocked(Slot& slot, int64_t ts_ms) {
  LevelPublisher& publisher = slot.publisher;
  for (;;) {
    if (!publisher.announced()) {
      if (absl::Status status = publisher.Announce(*options_.origin); !status.ok()) {
        MOQSTATS_LOG(WARNING) << "stats: origin rejected stats broadcast " << LogSafe(slot.level->advertised().str())
                              << ": " << LogSafe(std::string(status.message()));
        publishes_refused_.fetch_add(1, std::memory_order_relaxed);
        EmptyLocked(slot, /*keep_if_active=*/false);
        return false;
      }
    }
    const bool active = publisher.level()->any_active();
    // When stopping, these are the final frames of every track that changed.
    // Counted only when there are some: an idle tick stays free of atomic
    // read-modify-writes.
    const size_t written = publisher.WriteChanged(options_.node, ts_ms);
    if (written > 0) frames_written_.fetch_add(written, std::memory_order_relaxed);
    if (active) {
      slot.lingering = false;
      return true;
    }
    // The linger: frames written on an idle tick (the closing counts) stay
    // announced until the next tick, so subscribers read them before the
    // broadcast ends.
    if (written > 0 || !slot.lingering) {
      slot.lingering = true;
      return true;
    }
    // Unannounced before the slot is emptied: whoever fills it next finds
    // the path free.
    publisher.Unannounce();
    if (EmptyLocked(slot, /*keep_if_active=*/true)) return false;
    // A guard that found the slot full opened a subscription since `active`
    // was read: the publisher goes on, announced again at once.
    slot.lingering = false;
  }
}

bool LevelPublishers::EmptyLocked(Slot& slot, bool keep_if_active) {
  absl::MutexLock lock(&mu_);
  // An Ensure that found this slot full counted its subscription before it
  // took mu_, so the count is seen here.
  if (keep_if_active && slot.level->any_active()) return false;
  slot.stopped = true;
  slots_.erase(slot.level.get());
  slot.level->set_publisher_running(false);
  running_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

}  // namespace moq_stats::server
