#include "server/grpc/proto_convert.h"

#include "proto/counts_proto.h"

namespace moq_stats::server {

void LevelToProto(const Level& level, moq::stats::v1::Level* out) {
  out->set_key(level.key().str());
  out->set_advertised_path(level.advertised().str());
  out->set_publishing(level.publisher_running());
  out->set_created_unix_ms(static_cast<uint64_t>(level.created_unix_ms()));
  CountsToProto(level.snapshot(Tier::kExternal, Role::kPublisher), out->mutable_external_publisher());
  CountsToProto(level.snapshot(Tier::kExternal, Role::kSubscriber), out->mutable_external_subscriber());
  CountsToProto(level.snapshot(Tier::kInternal, Role::kPublisher), out->mutable_internal_publisher());
  CountsToProto(level.snapshot(Tier::kInternal, Role::kSubscriber), out->mutable_internal_subscriber());
}

}  // namespace moq_stats::server
