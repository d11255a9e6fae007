#include "tests/integration/test_tools/count_model.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace moq_stats {
namespace integration {
namespace pb = ::moq::stats::v1;

pb::Define MakeDefine(uint32_t handle, const std::string& path, pb::Tier tier) {
  pb::Define define;
  define.set_handle(handle);
  define.set_path(path);
  define.set_tier(tier);
  return define;
}

pb::HandleDelta MakeDelta(uint32_t handle, pb::Role role, const Bumps& bumps) {
  pb::HandleDelta delta;
  delta.set_handle(handle);
  delta.set_role(role);
  delta.set_broadcasts_opened(bumps.broadcasts_opened);
  delta.set_broadcasts_closed(bumps.broadcasts_closed);
  delta.set_subscriptions_opened(bumps.subscriptions_opened);
  delta.set_subscriptions_closed(bumps.subscriptions_closed);
  delta.set_bytes(bumps.bytes);
  delta.set_frames(bumps.frames);
  delta.set_groups(bumps.groups);
  return delta;
}

pb::Snapshot MakeSnapshot(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions,
                          uint64_t subscriptions_closed, uint64_t bytes, uint64_t frames, uint64_t groups) {
  pb::Snapshot s;
  s.set_broadcasts(broadcasts);
  s.set_broadcasts_closed(broadcasts_closed);
  s.set_subscriptions(subscriptions);
  s.set_subscriptions_closed(subscriptions_closed);
  s.set_bytes(bytes);
  s.set_frames(frames);
  s.set_groups(groups);
  return s;
}

std::string NormalizePath(const std::string& raw) {
  std::vector<std::string> segments = absl::StrSplit(raw, '/', absl::SkipEmpty());
  return absl::StrJoin(segments, "/");
}

std::vector<std::string> LevelKeysOf(const std::string& path, uint32_t levels) {
  std::vector<std::string> keys;
  if (levels == 0) return keys;
  std::vector<std::string> segments = absl::StrSplit(path, '/', absl::SkipEmpty());
  keys.push_back("");
  std::string key;
  for (size_t i = 0; i < segments.size() && i < levels; ++i) {
    key += (i ? "/" : "") + segments[i];
    keys.push_back(key);
  }
  return keys;
}

void CountModel::Add(const Handle& handle, pb::Role role, const Bumps& b) {
  for (const std::string& key : LevelKeysOf(handle.path, levels_)) {
    pb::Snapshot& s = counts_[{key, handle.tier, role}];
    s.set_broadcasts(s.broadcasts() + b.broadcasts_opened);
    s.set_broadcasts_closed(s.broadcasts_closed() + b.broadcasts_closed);
    s.set_subscriptions(s.subscriptions() + b.subscriptions_opened);
    s.set_subscriptions_closed(s.subscriptions_closed() + b.subscriptions_closed);
    s.set_bytes(s.bytes() + b.bytes);
    s.set_frames(s.frames() + b.frames);
    s.set_groups(s.groups() + b.groups);
  }
}

namespace {

// The opens or closes that take `open` to `target`.
Bumps MoveTo(std::array<uint64_t, 2>& open, const std::array<uint64_t, 2>& target) {
  Bumps b;
  if (target[0] >= open[0]) {
    b.broadcasts_opened = target[0] - open[0];
  } else {
    b.broadcasts_closed = open[0] - target[0];
  }
  if (target[1] >= open[1]) {
    b.subscriptions_opened = target[1] - open[1];
  } else {
    b.subscriptions_closed = open[1] - target[1];
  }
  open = target;
  return b;
}

}  // namespace

void CountModel::Apply(const pb::Batch& batch) {
  for (const pb::Define& d : batch.defines()) {
    if (handles_.count(d.handle())) continue;
    std::string path = NormalizePath(d.path());
    handles_[d.handle()] = Handle{path, d.tier(), {}};
    for (const std::string& key : LevelKeysOf(path, levels_)) keys_.insert(key);
  }
  if (batch.resync()) {
    std::map<std::pair<uint32_t, int>, std::array<uint64_t, 2>> targets;
    for (const pb::OpenGuards& o : batch.open()) targets[{o.handle(), o.role()}] = {o.broadcasts(), o.subscriptions()};
    for (auto& [id, handle] : handles_) {
      for (pb::Role role : {pb::ROLE_PUBLISHER, pb::ROLE_SUBSCRIBER}) {
        auto it = targets.find({id, role});
        std::array<uint64_t, 2> target = it == targets.end() ? std::array<uint64_t, 2>{0, 0} : it->second;
        Add(handle, role, MoveTo(handle.open[role], target));
      }
    }
  }
  for (const pb::HandleDelta& d : batch.deltas()) {
    Handle& handle = handles_.at(d.handle());
    Add(handle, d.role(),
        Bumps{d.broadcasts_opened(), d.broadcasts_closed(), d.subscriptions_opened(), d.subscriptions_closed(),
              d.bytes(), d.frames(), d.groups()});
    std::array<uint64_t, 2>& open = handle.open[d.role()];
    open[0] += d.broadcasts_opened() - d.broadcasts_closed();
    open[1] += d.subscriptions_opened() - d.subscriptions_closed();
  }
  for (uint32_t id : batch.releases()) handles_.erase(id);
}

void CountModel::CloseAll() {
  for (auto& [id, handle] : handles_) {
    for (auto& [role, open] : handle.open) Add(handle, static_cast<pb::Role>(role), MoveTo(open, {0, 0}));
  }
  handles_.clear();
}

pb::Snapshot CountModel::Expected(const std::string& key, pb::Tier tier, pb::Role role) const {
  auto it = counts_.find({key, tier, role});
  return it == counts_.end() ? pb::Snapshot() : it->second;
}

std::array<uint64_t, 2> CountModel::Open(uint32_t handle, pb::Role role) const {
  auto h = handles_.find(handle);
  if (h == handles_.end()) return {0, 0};
  auto o = h->second.open.find(role);
  return o == h->second.open.end() ? std::array<uint64_t, 2>{0, 0} : o->second;
}

std::vector<uint32_t> CountModel::handles() const {
  std::vector<uint32_t> out;
  for (const auto& [id, handle] : handles_) out.push_back(id);
  return out;
}

}  // namespace integration
}  // namespace moq_stats
