#ifndef MOQ_STATS_BENCH_SERVER_NODE_BENCH_PATHS_H_
#define MOQ_STATS_BENCH_SERVER_NODE_BENCH_PATHS_H_

// The paths the node-format benches tick over: `customer-<i % 97>/room-<i>/camera`,
// and the counts of a live path (a broadcast published, two of three
// subscriptions open, announced), of a realistic frame width.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "moq_stats/counts.h"

namespace moq_stats::server::bench {

inline std::vector<std::string> BenchPaths(size_t n) {
  std::vector<std::string> names;
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) names.push_back(absl::StrCat("customer-", i % 97, "/room-", i, "/camera"));
  return names;
}

inline Counts LivePathCounts() {
  Counts c;
  c.broadcasts = 1;
  c.subscriptions = 3;
  c.subscriptions_closed = 1;
  c.announced = 1;
  c.announced_bytes = 30;
  return c;
}

}  // namespace moq_stats::server::bench

#endif  // MOQ_STATS_BENCH_SERVER_NODE_BENCH_PATHS_H_
