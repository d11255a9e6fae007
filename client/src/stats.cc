// The public API of moq_stats/stats.h over the ClientCore.

#include "moq_stats/stats.h"

#include "client/src/client_core.h"
#include "common/tier_label.h"

namespace moq_stats {

Stats Stats::Connect(const std::string& target, Options options) {
  return Stats(std::make_shared<internal::ClientCore>(target, std::move(options)));
}

Stats Stats::Disabled() { return Stats(); }

StatsHandle Stats::tier(Tier tier) const { return StatsHandle(core_, tier); }

StatsHandle Stats::tier(std::string_view raw) const {
  absl::StatusOr<std::string> label = NormalizeTierLabel(raw);
  // An invalid label: a handle with no core, so every bump is a no-op.
  if (!label.ok()) return StatsHandle(nullptr, Tier::kExternal);
  if (label->empty()) return tier(Tier::kExternal);
  if (*label == "internal") return tier(Tier::kInternal);
  return StatsHandle(core_, Tier::kExternal, *std::move(label));
}

bool Stats::Shutdown(std::chrono::milliseconds deadline) { return core_ ? core_->Shutdown(deadline) : true; }

ClientCounters Stats::counters() const { return core_ ? core_->counters() : ClientCounters{}; }

BroadcastStats StatsHandle::broadcast(std::string_view path) const {
  if (!core_) return BroadcastStats();
  return BroadcastStats(core_->GetHandle(path, tier_, label_));
}

SessionGuard StatsHandle::session(std::string_view auth_root) const {
  if (!core_) return SessionGuard();
  return SessionGuard(BroadcastStats(core_->GetHandle(auth_root, tier_, label_, /*presence=*/true)).publisher());
}

PublisherStats BroadcastStats::publisher() const { return PublisherStats(handle_); }

SubscriberStats BroadcastStats::subscriber() const { return SubscriberStats(handle_); }

PublisherTrack BroadcastStats::publisher_track(std::string_view) const { return PublisherTrack(*this); }

SubscriberTrack BroadcastStats::subscriber_track(std::string_view) const { return SubscriberTrack(*this); }

PublisherAnnounce BroadcastStats::publisher_announce() const { return PublisherAnnounce(*this); }

SubscriberAnnounce BroadcastStats::subscriber_announce() const { return SubscriberAnnounce(*this); }

}  // namespace moq_stats
