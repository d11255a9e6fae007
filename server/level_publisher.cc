#include "server/level_publisher.h"

#include <string>
#include <utility>

#include "common/logging.h"
#include "server/snapshot_frame.h"

namespace moqstats {
namespace {

// Generations only need to differ between publishers of one level; one
// process-wide sequence is simplest. Relaxed: it orders nothing.
std::atomic<uint64_t> g_next_generation{1};

}  // namespace

LevelPublisher::~LevelPublisher() = default;

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
  // The first tick is immediate. Scheduled outside the level's lock: the
  // scheduler may run it on another thread at once.
  absl::Time now = context->clock->Now();
  context->scheduler->ScheduleAt(now, [weak_level = std::weak_ptr<Level>(level),
                                       weak_context = std::weak_ptr<Context>(context), generation, now] {
    Tick(weak_level, weak_context, generation, now);
  });
}

bool LevelPublisher::TickNow(const std::shared_ptr<Level>& level, const std::shared_ptr<Context>& context) {
  absl::MutexLock lock(&level->publisher_mu_);
  if (!level->publisher_) return false;
  TickLocked(level, *context);
  return true;
}

void LevelPublisher::Tick(const std::weak_ptr<Level>& weak_level, const std::weak_ptr<Context>& weak_context,
                          uint64_t generation, absl::Time deadline) {
  std::shared_ptr<Level> level = weak_level.lock();
  std::shared_ptr<Context> context = weak_context.lock();
  if (!level || !context) return;
  {
    absl::MutexLock lock(&level->publisher_mu_);
    if (!level->publisher_ || level->publisher_->generation_ != generation) return;
    if (!TickLocked(level, *context)) return;
  }
  absl::Time now = context->clock->Now();
  absl::Time next = deadline + context->interval;
  if (now > deadline + kMissedTickTolerance) next = now + context->interval;
  context->scheduler->ScheduleAt(next, [weak_level, weak_context, generation, next] {
    Tick(weak_level, weak_context, generation, next);
  });
}

bool LevelPublisher::TickLocked(const std::shared_ptr<Level>& level, Context& context) {
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
  self.WriteChanged(*level, context);
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
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast = origin.Publish(level.advertised());
  if (!broadcast.ok()) return broadcast.status();
  for (size_t i = 0; i < kTierRoleCount; ++i) {
    absl::StatusOr<TrackProducer*> track = (*broadcast)->CreateTrack(TrackName(TierAt(i), RoleAt(i)));
    if (!track.ok()) return track.status();
    tracks_[i] = *track;
  }
  broadcast_ = std::move(*broadcast);
  return absl::OkStatus();
}

void LevelPublisher::WriteChanged(const Level& level, Context& context) {
  for (size_t i = 0; i < kTierRoleCount; ++i) {
    Snapshot snapshot = level.snapshot(TierAt(i), RoleAt(i));
    if (last_[i] && *last_[i] == snapshot) continue;
    SnapshotFrame frame;
    frame.level = level.key().str();
    frame.tier = TierAt(i);
    frame.role = RoleAt(i);
    frame.node = context.node.str();
    frame.ts_ms = context.clock->UnixMillis();
    frame.snapshot = snapshot;
    tracks_[i]->WriteFrame(EncodeSnapshotFrame(frame));
    last_[i] = snapshot;
    context.frames_written.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace moqstats
