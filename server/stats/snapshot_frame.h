#ifndef MOQ_STATS_SERVER_STATS_SNAPSHOT_FRAME_H_
#define MOQ_STATS_SERVER_STATS_SNAPSHOT_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_string.h"
#include "server/stats/counters.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

// The frame format version written in every frame's "v".
inline constexpr uint32_t kSnapshotFrameVersion = 1;

// One frame of a level's (tier, role) track.
struct SnapshotFrame {
  std::string_view level;  // the level key, "" for the root
  Tier tier = Tier::kExternal;
  Role role = Role::kPublisher;
  std::string_view node;  // empty: the "node" field is left out
  int64_t ts_ms = 0;      // wall-clock milliseconds since the Unix epoch
  Counts snapshot;
};

// Encodes `frame` as compact JSON, byte for byte what the seed module
// (moq_net stats.rs) writes with serde_json, so that consumers of its frames
// read these unchanged: fields in the order v, level, tier, role,
// node (absent when empty), ts_ms, broadcasts, broadcasts_closed,
// subscriptions, subscriptions_closed, bytes, frames, groups.
std::string EncodeSnapshotFrame(const SnapshotFrame& frame);

// True when `a` and `b` agree on every counter a level frame carries (the
// first kLevelCounterCount), whatever the counters only the node format
// publishes: a frame is written only when its content would change.
inline bool SameLevelFrameCounts(const Counts& a, const Counts& b) {
  for (size_t i = 0; i < kLevelCounterCount; ++i) {
    if (a.*kCountFields[i].field != b.*kCountFields[i].field) return false;
  }
  return true;
}

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_SNAPSHOT_FRAME_H_
