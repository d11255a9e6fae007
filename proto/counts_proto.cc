#include "proto/counts_proto.h"

namespace moq_stats {
namespace pb = ::moq::stats::v1;

pb::Tier TierToProto(Tier tier) { return tier == Tier::kExternal ? pb::TIER_EXTERNAL : pb::TIER_INTERNAL; }

std::optional<Tier> TierFromProto(int tier) {
  switch (tier) {
    case pb::TIER_EXTERNAL:
      return Tier::kExternal;
    case pb::TIER_INTERNAL:
      return Tier::kInternal;
    default:
      return std::nullopt;
  }
}

pb::Role RoleToProto(Role role) { return role == Role::kPublisher ? pb::ROLE_PUBLISHER : pb::ROLE_SUBSCRIBER; }

std::optional<Role> RoleFromProto(int role) {
  switch (role) {
    case pb::ROLE_PUBLISHER:
      return Role::kPublisher;
    case pb::ROLE_SUBSCRIBER:
      return Role::kSubscriber;
    default:
      return std::nullopt;
  }
}

void CountsToProto(const Counts& c, pb::Snapshot* out) {
  out->set_broadcasts(c.broadcasts);
  out->set_broadcasts_closed(c.broadcasts_closed);
  out->set_subscriptions(c.subscriptions);
  out->set_subscriptions_closed(c.subscriptions_closed);
  out->set_bytes(c.bytes);
  out->set_frames(c.frames);
  out->set_groups(c.groups);
  out->set_announced(c.announced);
  out->set_announced_closed(c.announced_closed);
  out->set_announced_bytes(c.announced_bytes);
  out->set_fetches(c.fetches);
  out->set_datagrams(c.datagrams);
}

Counts CountsFromProto(const pb::Snapshot& s) {
  Counts c;
  c.broadcasts = s.broadcasts();
  c.broadcasts_closed = s.broadcasts_closed();
  c.subscriptions = s.subscriptions();
  c.subscriptions_closed = s.subscriptions_closed();
  c.bytes = s.bytes();
  c.frames = s.frames();
  c.groups = s.groups();
  c.announced = s.announced();
  c.announced_closed = s.announced_closed();
  c.announced_bytes = s.announced_bytes();
  c.fetches = s.fetches();
  c.datagrams = s.datagrams();
  return c;
}

void CountsToDelta(const Counts& c, pb::HandleDelta* out) {
  out->set_broadcasts_opened(c.broadcasts);
  out->set_broadcasts_closed(c.broadcasts_closed);
  out->set_subscriptions_opened(c.subscriptions);
  out->set_subscriptions_closed(c.subscriptions_closed);
  out->set_bytes(c.bytes);
  out->set_frames(c.frames);
  out->set_groups(c.groups);
  out->set_announced_opened(c.announced);
  out->set_announced_closed(c.announced_closed);
  out->set_announced_bytes(c.announced_bytes);
  out->set_fetches(c.fetches);
  out->set_datagrams(c.datagrams);
}

Counts CountsFromDelta(const pb::HandleDelta& d) {
  Counts c;
  c.broadcasts = d.broadcasts_opened();
  c.broadcasts_closed = d.broadcasts_closed();
  c.subscriptions = d.subscriptions_opened();
  c.subscriptions_closed = d.subscriptions_closed();
  c.bytes = d.bytes();
  c.frames = d.frames();
  c.groups = d.groups();
  c.announced = d.announced_opened();
  c.announced_closed = d.announced_closed();
  c.announced_bytes = d.announced_bytes();
  c.fetches = d.fetches();
  c.datagrams = d.datagrams();
  return c;
}

}  // namespace moq_stats
