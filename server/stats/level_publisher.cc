#include "server/stats/level_publisher.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/stats/snapshot_frame.h"

namespace moq_stats::server {

LevelPublisher::LevelPublisher(std::shared_ptr<Level> level) : level_(std::move(level)) {}

LevelPublisher::~LevelPublisher() = default;

absl::Status LevelPublisher::Announce(Origin& origin) {
  std::vector<std::string> names;
  names.reserve(kTierRoleCount);
  for (size_t i = 0; i < kTierRoleCount; ++i) names.emplace_back(TrackName(TierAt(i), RoleAt(i)));
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast = origin.Publish(level_->advertised(), names);
  if (!broadcast.ok()) return broadcast.status();
  for (size_t i = 0; i < kTierRoleCount; ++i) tracks_[i] = (*broadcast)->track(names[i]);
  broadcast_ = std::move(*broadcast);
  written_ = {};
  return absl::OkStatus();
}

size_t LevelPublisher::WriteChanged(const Path& node, int64_t ts_ms) {
  size_t written = 0;
  for (size_t i = 0; i < kTierRoleCount; ++i) {
    Counts snapshot = level_->snapshot(TierAt(i), RoleAt(i));
    if (written_[i] && SameLevelFrameCounts(last_[i], snapshot)) continue;
    SnapshotFrame frame;
    frame.level = level_->key().str();
    frame.tier = TierAt(i);
    frame.role = RoleAt(i);
    frame.node = node.str();
    frame.ts_ms = ts_ms;
    frame.snapshot = snapshot;
    tracks_[i]->WriteFrame(EncodeSnapshotFrame(frame));
    last_[i] = snapshot;
    written_[i] = true;
    ++written;
  }
  return written;
}

void LevelPublisher::Unannounce() {
  broadcast_.reset();
  tracks_ = {};
}

}  // namespace moq_stats::server
