// The public API of moq_stats/stats.h over the ClientCore.

#include "moq_stats/stats.h"

#include "client/src/client_core.h"

namespace moq_stats {

Stats Stats::Connect(const std::string& target, Options options) {
  return Stats(std::make_shared<internal::ClientCore>(target, std::move(options)));
}

Stats Stats::Disabled() { return Stats(); }

StatsHandle Stats::tier(Tier tier) const { return StatsHandle(core_, tier); }

bool Stats::Shutdown(std::chrono::milliseconds deadline) { return core_ ? core_->Shutdown(deadline) : true; }

ClientCounters Stats::counters() const { return core_ ? core_->counters() : ClientCounters{}; }

BroadcastStats StatsHandle::broadcast(std::string_view path) const {
  if (!core_) return BroadcastStats();
  return BroadcastStats(core_->GetHandle(path, tier_));
}

PublisherStats BroadcastStats::publisher() const { return PublisherStats(handle_); }

SubscriberStats BroadcastStats::subscriber() const { return SubscriberStats(handle_); }

PublisherTrack BroadcastStats::publisher_track(std::string_view) const { return PublisherTrack(*this); }

SubscriberTrack BroadcastStats::subscriber_track(std::string_view) const { return SubscriberTrack(*this); }

PublisherAnnounce BroadcastStats::publisher_announce() const { return PublisherAnnounce(*this); }

SubscriberAnnounce BroadcastStats::subscriber_announce() const { return SubscriberAnnounce(*this); }

}  // namespace moq_stats
