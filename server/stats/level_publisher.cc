#include "server/stats/level_publisher.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "server/stats/snapshot_frame.h"

namespace moq_stats::server {
namespace {

// Generations only need to differ between publishers of one level; one
// process-wide sequence is simplest. Relaxed: it orders nothing.
std::atomic<uint64_t> g_next_generation{1};

// Levels whose deadlines fall in the same millisecond tick together.
constexpr absl::Duration kTickGranularity = absl::Milliseconds(1);

}  // namespace

LevelPublisher::~LevelPublisher() = default;

std::shared_ptr<LevelPublisher::Context> LevelPublisher::NewContext(Scheduler* scheduler) {
  auto context = std::make_shared<Context>();
  context->scheduler = scheduler;
  context->wheel = TickWheel<TickEntry>::Create(
      scheduler, kTickGranularity, [weak = std::weak_ptr<Context>(context)](std::vector<TickEntry>& due, absl::Time) {
        if (auto context = weak.lock()) TickDue(*context, due);
      });
  return context;
}

void LevelPublisher::Ensure(const std::shared_ptr<Level>& level, const std::shared_ptr<Context>& context) {
  uint64_t generation;
  {
    absl::MutexLock lock(&level->publisher_mu_);
    if (level->publisher_) return;
    generation = g_next_generation.fetch_add(1, std::memory_order_relaxed);
    level->publisher_.reset(new LevelPublisher(generation));
    level->publisher_running_.store(true, std::memory_order_release);
    context->running.fetch_add(1, std::memory_order_relaxed);
    context->started.fetch_add(1, std::memory_order_relaxed);
  }
  // The first tick is immediate (within the wheel's granularity). Added
  // outside the level's lock: the scheduler may run it on another thread at
  // once.
  absl::Time now = context->clock->Now();
  context->wheel->Add(now, TickEntry{level, generation, now});
}

bool LevelPublisher::TickNow(const std::shared_ptr<Level>& level, const std::shared_ptr<Context>& context) {
  absl::MutexLock lock(&level->publisher_mu_);
  if (!level->publisher_) return false;
  TickLocked(level, *context, context->clock->UnixMillis());
  return true;
}

void LevelPublisher::TickDue(Context& context, std::vector<TickEntry>& due) {
  auto started = std::chrono::steady_clock::now();
  const absl::Time now = context.clock->Now();
  const int64_t ts_ms = context.clock->UnixMillis();
  for (TickEntry& entry : due) {
    {
      absl::MutexLock lock(&entry.level->publisher_mu_);
      LevelPublisher* publisher = entry.level->publisher_.get();
      // A stale entry (its publisher stopped, maybe replaced) does nothing.
      if (!publisher || publisher->generation_ != entry.generation) continue;
      if (!TickLocked(entry.level, context, ts_ms)) continue;
    }
    // Missed ticks are delayed, not bunched.
    absl::Time next = entry.deadline + context.interval;
    if (now > entry.deadline + kMissedTickTolerance) next = now + context.interval;
    entry.deadline = next;
    context.wheel->Add(next, std::move(entry));
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  context.ticks.fetch_add(due.size(), std::memory_order_relaxed);
  context.tick_nanos.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
                               std::memory_order_relaxed);
}

bool LevelPublisher::TickLocked(const std::shared_ptr<Level>& level, Context& context, int64_t ts_ms) {
  LevelPublisher& self = *level->publisher_;
  if (!self.broadcast_) {
    absl::Status status = self.Announce(*level, *context.origin);
    if (!status.ok()) {
      MOQSTATS_LOG(WARNING) << "stats: origin rejected stats broadcast " << level->advertised().str() << ": "
                            << status.message();
      context.publish_refused.fetch_add(1, std::memory_order_relaxed);
      StopLocked(level, context);
      return false;
    }
  }
  bool active = level->any_active();
  // When stopping, this is the final frame of every track that changed.
  self.WriteChanged(*level, context, ts_ms);
  if (!active) {
    StopLocked(level, context);
    return false;
  }
  return true;
}

void LevelPublisher::StopLocked(const std::shared_ptr<Level>& level, Context& context) {
  // Destroying the publisher drops the broadcast, which unannounces it; only
  // then is the slot seen empty.
  level->publisher_.reset();
  level->publisher_running_.store(false, std::memory_order_release);
  context.running.fetch_sub(1, std::memory_order_relaxed);
  if (context.on_stopped) context.on_stopped(level);
}

absl::Status LevelPublisher::Announce(const Level& level, Origin& origin) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kTierRoleCount; ++i) names.emplace_back(TrackName(TierAt(i), RoleAt(i)));
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast = origin.Publish(level.advertised(), names);
  if (!broadcast.ok()) return broadcast.status();
  for (size_t i = 0; i < kTierRoleCount; ++i) tracks_[i] = (*broadcast)->track(names[i]);
  broadcast_ = std::move(*broadcast);
  return absl::OkStatus();
}

void LevelPublisher::WriteChanged(const Level& level, Context& context, int64_t ts_ms) {
  for (size_t i = 0; i < kTierRoleCount; ++i) {
    Counts snapshot = level.snapshot(TierAt(i), RoleAt(i));
    if (last_[i] && *last_[i] == snapshot) continue;
    SnapshotFrame frame;
    frame.level = level.key().str();
    frame.tier = TierAt(i);
    frame.role = RoleAt(i);
    frame.node = context.node.str();
    frame.ts_ms = ts_ms;
    frame.snapshot = snapshot;
    tracks_[i]->WriteFrame(EncodeSnapshotFrame(frame));
    last_[i] = snapshot;
    context.frames_written.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace moq_stats::server
