#include "server/sessions/proto_convert.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

void SnapshotToProto(const Snapshot& s, pb::Snapshot* out) {
  out->set_broadcasts(s.broadcasts);
  out->set_broadcasts_closed(s.broadcasts_closed);
  out->set_subscriptions(s.subscriptions);
  out->set_subscriptions_closed(s.subscriptions_closed);
  out->set_bytes(s.bytes);
  out->set_frames(s.frames);
  out->set_groups(s.groups);
}

Snapshot SnapshotFromProto(const pb::Snapshot& s) {
  return Snapshot{
      s.broadcasts(), s.broadcasts_closed(), s.subscriptions(), s.subscriptions_closed(), s.bytes(), s.frames(),
      s.groups()};
}

void LevelToProto(const Level& level, pb::Level* out) {
  out->set_key(level.key().str());
  out->set_advertised_path(level.advertised().str());
  out->set_publishing(level.publisher_running());
  SnapshotToProto(level.snapshot(Tier::kExternal, Role::kPublisher), out->mutable_external_publisher());
  SnapshotToProto(level.snapshot(Tier::kExternal, Role::kSubscriber), out->mutable_external_subscriber());
  SnapshotToProto(level.snapshot(Tier::kInternal, Role::kPublisher), out->mutable_internal_publisher());
  SnapshotToProto(level.snapshot(Tier::kInternal, Role::kSubscriber), out->mutable_internal_subscriber());
}

}  // namespace moq_stats::server
