#include "origin_bridge/bridge/idle_sessions.h"

namespace moq_stats::bridge {

void IdleSessions::Track(uint64_t id, absl::Time now) {
  Forget(id);
  const absl::Time deadline = now + timeout_;
  sessions_.emplace(id, deadline);
  deadlines_.emplace(deadline, id);
}

void IdleSessions::SetSubscribed(uint64_t id, bool subscribed, absl::Time now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::optional<absl::Time>& deadline = it->second;
  if (subscribed) {
    if (deadline.has_value()) deadlines_.erase({*deadline, id});
    deadline.reset();
  } else if (!deadline.has_value()) {
    deadline = now + timeout_;
    deadlines_.emplace(*deadline, id);
  }
}

void IdleSessions::Forget(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second.has_value()) deadlines_.erase({*it->second, id});
  sessions_.erase(it);
}

std::vector<uint64_t> IdleSessions::TakeExpired(absl::Time now) {
  std::vector<uint64_t> expired;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    sessions_.erase(id);
    expired.push_back(id);
  }
  return expired;
}

std::optional<absl::Time> IdleSessions::NextDeadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

}  // namespace moq_stats::bridge
