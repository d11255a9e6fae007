#include "server/sessions/ended_sessions.h"

#include <algorithm>
#include <vector>

#include "common/utf8.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// As SessionRegistry::Attach bounds an id.
constexpr size_t kMaxSessionIdBytes = 128;

}  // namespace

void EndedSessions::Remember(const std::string& id, uint64_t applied, absl::Time ended) {
  auto [it, inserted] = entries_.try_emplace(id, Entry{applied, ended});
  if (!inserted) {
    by_end_.erase({it->second.ended, id});
    it->second = Entry{applied, ended};
  }
  by_end_.emplace(ended, id);
  Prune(ended);
}

std::optional<uint64_t> EndedSessions::Find(std::string_view id, absl::Time now) {
  Prune(now);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.applied_sequence;
}

void EndedSessions::Forget(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  by_end_.erase({it->second.ended, id});
  entries_.erase(it);
}

void EndedSessions::Prune(absl::Time now) {
  while (!by_end_.empty()) {
    const auto& [ended, id] = *by_end_.begin();
    if (now - ended <= keep_ && entries_.size() <= max_entries_) break;
    entries_.erase(id);
    by_end_.erase(by_end_.begin());
  }
}

void EndedSessions::SaveTo(pb::Checkpoint* out) const {
  for (const auto& [id, entry] : entries_) {
    pb::CheckpointSession* saved = out->add_expired_sessions();
    saved->set_session_id(id);
    saved->set_applied_sequence(entry.applied_sequence);
    saved->set_ended_unix_ms(absl::ToUnixMillis(entry.ended));
  }
}

void EndedSessions::Restore(const pb::Checkpoint& checkpoint, absl::Time now) {
  // Oldest first, so that max_entries keeps the newest.
  std::vector<const pb::CheckpointSession*> ended;
  for (const pb::CheckpointSession& saved : checkpoint.expired_sessions()) {
    const std::string& id = saved.session_id();
    if (id.empty() || id.size() > kMaxSessionIdBytes || !IsValidUtf8(id)) continue;
    ended.push_back(&saved);
  }
  std::stable_sort(ended.begin(), ended.end(),
                   [](const auto* a, const auto* b) { return a->ended_unix_ms() < b->ended_unix_ms(); });
  for (const pb::CheckpointSession* saved : ended) {
    Remember(saved->session_id(), saved->applied_sequence(), absl::FromUnixMillis(saved->ended_unix_ms()));
  }
  Prune(now);
}

}  // namespace moq_stats::server
