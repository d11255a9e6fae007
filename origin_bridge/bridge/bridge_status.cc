#include "origin_bridge/bridge/bridge_status.h"

namespace moq_stats::bridge {
namespace {

void AddTotals(const SessionCounters& from, SessionCounters* to) {
  to->subscriptions_served += from.subscriptions_served;
  to->groups_sent += from.groups_sent;
  to->group_bytes_sent += from.group_bytes_sent;
  to->groups_skipped += from.groups_skipped;
  to->wire_bytes_sent += from.wire_bytes_sent;
  to->wire_bytes_received += from.wire_bytes_received;
}

}  // namespace

void StatusBoard::UpdateSession(uint64_t session_id, const SessionCounters& counters) {
  absl::MutexLock lock(&mu_);
  live_[session_id] = counters;
}

void StatusBoard::RemoveSession(uint64_t session_id) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(session_id);
  if (it == live_.end()) return;
  AddTotals(it->second, &status_.totals);
  live_.erase(it);
}

BridgeStatus StatusBoard::Snapshot() const {
  absl::MutexLock lock(&mu_);
  BridgeStatus out = status_;
  for (const auto& [id, counters] : live_) {
    AddTotals(counters, &out.totals);
    out.totals.announced_broadcasts += counters.announced_broadcasts;
    out.totals.subscriptions_active += counters.subscriptions_active;
  }
  return out;
}

}  // namespace moq_stats::bridge
