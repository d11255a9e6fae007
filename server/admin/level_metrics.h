#ifndef MOQ_STATS_SERVER_ADMIN_LEVEL_METRICS_H_
#define MOQ_STATS_SERVER_ADMIN_LEVEL_METRICS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "moq_stats/counts.h"
#include "server/admin/prometheus_text.h"
#include "server/stats/level.h"
#include "server/stats/stats.h"
#include "server/stats/tier.h"

namespace moq_stats::server {

// The aggregator's levels as Prometheus series on /metrics: for every
// exported level and every (tier, role), the seven cumulative counters
//   moq_stats_level_{bytes,frames,groups}_total
//   moq_stats_level_{broadcasts,subscriptions}_{opened,closed}_total
// and the gauges of what is open now
//   moq_stats_level_{broadcasts,subscriptions}_open
// each labelled {level="<key>", tier, role, node} (the root level is
// level=""; node is --stats-node). Then two gauges about the selection:
// moq_stats_levels_exported and moq_stats_levels_unexported.
//
// Which levels are exported (at most `max_levels`):
//  - a level exported once stays exported while it exists, so none of its
//    counters ever goes down or vanishes while the level lives;
//  - the room left is filled with the levels not yet exported, shallowest
//    first (the root, then one segment, ...), then in key order;
//  - a level past the cap is left out entirely (counted by
//    moq_stats_levels_unexported), never folded into another series.
// A level freed by retention loses its series; if its key comes back it is a
// new level and may be picked again.
//
// Per-level values read once per scrape are in LevelReading; a new per-level
// family is one more field there and one more entry in the family table of
// level_metrics.cc.
//
// Safe for concurrent access from multiple threads.
class LevelMetrics {
 public:
  // `max_levels`: most levels exported at once (0: none). `node` is the
  // value of the node label.
  LevelMetrics(uint64_t max_levels, std::string node);

  // Every level of `stats`, rendered as above into `text`.
  void Render(const Stats& stats, PrometheusText* text);

  // The same for `levels` (in key order, as Stats::ListLevels gives them).
  void Render(const std::vector<std::shared_ptr<const Level>>& levels, PrometheusText* text);

  // The keys exported by the last Render, in key order.
  std::vector<std::string> exported() const;

 private:
  // Drops the keys that no longer exist and fills the room left by the rule
  // above; returns whether each of `levels` is exported.
  std::vector<bool> Select(const std::vector<std::shared_ptr<const Level>>& levels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t max_levels_;
  const std::string node_;

  mutable absl::Mutex mu_;
  // Renders one after the other (the selection must not interleave).
  std::set<std::string> exported_ ABSL_GUARDED_BY(mu_);
};

// One exported level as read for one scrape.
struct LevelReading {
  std::string key;
  std::array<Counts, kTierRoleCount> counts;  // by TierRoleIndex
  int64_t created_unix_ms = 0;                // when this incarnation of the level was created
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_LEVEL_METRICS_H_
