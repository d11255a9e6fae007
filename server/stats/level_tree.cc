#include "server/stats/level_tree.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/stats/level_key.h"

namespace moq_stats::server {

std::shared_ptr<LevelTree> LevelTree::Create(Path prefix, Path node, absl::Duration retention, Scheduler* scheduler,
                                             const Clock* clock) {
  return std::shared_ptr<LevelTree>(new LevelTree(std::move(prefix), std::move(node), retention, scheduler, clock));
}

LevelTree::LevelTree(Path prefix, Path node, absl::Duration retention, Scheduler* scheduler, const Clock* clock)
    : prefix_(std::move(prefix)), node_(std::move(node)), retention_(retention), scheduler_(scheduler), clock_(clock) {}

std::vector<std::shared_ptr<Level>> LevelTree::Acquire(const std::vector<Path>& keys) {
  std::vector<std::shared_ptr<Level>> out;
  out.reserve(keys.size());
  absl::MutexLock lock(&mu_);
  for (const Path& key : keys) out.push_back(AcquireLocked(key, 0));
  return out;
}

std::shared_ptr<Level> LevelTree::AcquireRestored(const Path& key, int64_t created_unix_ms) {
  absl::MutexLock lock(&mu_);
  return AcquireLocked(key, created_unix_ms);
}

std::shared_ptr<Level> LevelTree::AcquireLocked(const Path& key, int64_t created_unix_ms) {
  auto it = levels_.find(key);
  if (it == levels_.end()) {
    if (created_unix_ms == 0) created_unix_ms = clock_->UnixMillis();
    auto level = std::make_shared<Level>(key, AdvertisedPath(prefix_, key, node_), created_unix_ms);
    it = levels_.emplace(key, Entry{std::move(level)}).first;
  }
  // Under mu_: Sweep checks handles under mu_ too, so it never frees a level
  // that is being handed out.
  it->second.level->AddHandle();
  return it->second.level;
}

absl::StatusOr<uint64_t> LevelTree::Reserve(const std::vector<Path>& keys, uint64_t max_levels) {
  absl::MutexLock lock(&mu_);
  uint64_t missing = 0;
  for (const Path& key : keys) missing += levels_.count(key) == 0 ? 1 : 0;
  if (max_levels != 0 && missing != 0 && levels_.size() + reserved_ + missing > max_levels) {
    return absl::ResourceExhaustedError(absl::StrCat("the sidecar holds ", levels_.size(), " levels (", reserved_,
                                                     " more promised); the limit max_levels=", max_levels,
                                                     " leaves no room for ", missing, " more"));
  }
  reserved_ += missing;
  return missing;
}

void LevelTree::Unreserve(uint64_t count) {
  absl::MutexLock lock(&mu_);
  reserved_ -= std::min(reserved_, count);
}

uint64_t LevelTree::Room(uint64_t max_levels) const {
  if (max_levels == 0) return std::numeric_limits<uint64_t>::max();
  absl::MutexLock lock(&mu_);
  uint64_t taken = levels_.size() + reserved_;
  return taken >= max_levels ? 0 : max_levels - taken;
}

void LevelTree::Release(const std::vector<std::shared_ptr<Level>>& levels) {
  std::vector<const std::shared_ptr<Level>*> now_unreferenced;
  for (const auto& level : levels) {
    if (level->ReleaseHandle()) now_unreferenced.push_back(&level);
  }
  if (now_unreferenced.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const auto* level : now_unreferenced) MarkIdleLocked(*level);
}

void LevelTree::OnPublisherStopped(const std::shared_ptr<Level>& level) {
  // The handle count is read under mu_: then either the release that took it
  // to zero queued the level before this, or the Sweep that takes that
  // release's queue entry comes after this and sees the publisher stopped.
  // Read before the lock, this and a Sweep could each miss the other's
  // change, and the level would never be freed.
  absl::MutexLock lock(&mu_);
  if (level->handles() == 0) MarkIdleLocked(level);
}

void LevelTree::MarkIdleLocked(const std::shared_ptr<Level>& level) {
  // The root is never freed: it holds the totals of everything. A zero
  // retention keeps every level.
  if (level->key().empty() || retention_ == absl::ZeroDuration()) return;
  auto it = levels_.find(level->key());
  // A level no longer (or no more this one) in the tree has nothing to free.
  if (it == levels_.end() || it->second.level != level) return;
  absl::Time now = clock_->Now();
  it->second.idle_since = now;
  idle_.push_back(Idle{level->key(), now});
  ScheduleSweepLocked();
}

void LevelTree::ScheduleSweepLocked() {
  if (sweep_scheduled_ || idle_.empty()) return;
  sweep_scheduled_ = true;
  scheduler_->ScheduleAt(idle_.front().since + retention_, [weak = weak_from_this()] {
    if (auto tree = weak.lock()) tree->Sweep();
  });
}

void LevelTree::Sweep() {
  // Levels are destroyed after the lock is released, to keep it short.
  std::vector<std::shared_ptr<Level>> freed;
  {
    absl::MutexLock lock(&mu_);
    sweep_scheduled_ = false;
    absl::Time now = clock_->Now();
    while (!idle_.empty() && idle_.front().since + retention_ <= now) {
      Idle idle = std::move(idle_.front());
      idle_.pop_front();
      auto it = levels_.find(idle.key);
      if (it == levels_.end()) continue;
      const Entry& entry = it->second;
      // A newer queue entry stands for this level if it went idle again.
      if (entry.idle_since != idle.since) continue;
      if (entry.level->handles() != 0 || entry.level->publisher_running()) continue;
      freed.push_back(std::move(it->second.level));
      levels_.erase(it);
      ++freed_;
    }
    ScheduleSweepLocked();
  }
}

std::shared_ptr<Level> LevelTree::Find(const Path& key) const {
  absl::MutexLock lock(&mu_);
  auto it = levels_.find(key);
  return it == levels_.end() ? nullptr : it->second.level;
}

std::vector<std::shared_ptr<Level>> LevelTree::List(const Path& prefix, const std::optional<Path>& after,
                                                    size_t limit) const {
  std::vector<std::shared_ptr<Level>> out;
  absl::MutexLock lock(&mu_);
  // Keys under a prefix are contiguous in key order from the prefix itself,
  // except that the root prefix covers every key.
  auto it = levels_.lower_bound(prefix);
  if (after && !(*after < prefix)) it = levels_.upper_bound(*after);
  for (; it != levels_.end() && out.size() < limit; ++it) {
    if (!it->first.has_prefix(prefix)) {
      // Past the block of keys starting with the prefix's bytes: done.
      if (it->first.str().compare(0, prefix.str().size(), prefix.str()) != 0) break;
      continue;  // e.g. "foobar" between "foo" and "foo/..."
    }
    out.push_back(it->second.level);
  }
  return out;
}

size_t LevelTree::size() const {
  absl::MutexLock lock(&mu_);
  return levels_.size();
}

uint64_t LevelTree::freed() const {
  absl::MutexLock lock(&mu_);
  return freed_;
}

}  // namespace moq_stats::server
