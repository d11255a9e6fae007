// The cost of the level part of /metrics: LevelMetrics::Render over N levels
// (each with all four (tier, role) counter sets bumped), as a scrape does it,
// selection included. Reports the body size and the time per series.
//   make bench   (or build-release/bench/metrics_bench)

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "server/admin/level_metrics.h"
#include "server/admin/prometheus_text.h"
#include "server/stats/level.h"

namespace moq_stats::server {
namespace {

// N levels shaped like a real tree: 1 root, then "room<i>" and
// "room<i>/cam<j>" under it, in key order.
std::vector<std::shared_ptr<const Level>> MakeLevels(size_t n) {
  std::vector<std::shared_ptr<Level>> levels;
  levels.push_back(std::make_shared<Level>(Path(""), Path(".stats"), 0));
  for (size_t room = 0; levels.size() < n; ++room) {
    const std::string key = absl::StrCat("room", room);
    levels.push_back(std::make_shared<Level>(Path(key), Path(".stats/" + key), 0));
    for (size_t cam = 0; cam < 9 && levels.size() < n; ++cam) {
      const std::string sub = absl::StrCat(key, "/cam", cam);
      levels.push_back(std::make_shared<Level>(Path(sub), Path(".stats/" + sub), 0));
    }
  }
  for (const auto& level : levels) {
    for (Tier tier : kTiers) {
      for (Role role : kRoles) {
        Counters& c = level->counters(tier, role);
        c.OpenBroadcast();
        c.OpenSubscription();
        c.AddBytes(123456789);
        c.AddFrames(12345);
        c.AddGroups(123);
      }
    }
  }
  std::sort(levels.begin(), levels.end(), [](const auto& a, const auto& b) { return a->key() < b->key(); });
  return {levels.begin(), levels.end()};
}

void BM_RenderLevels(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const auto levels = MakeLevels(n);
  LevelMetrics metrics(n, "lon");
  size_t bytes = 0;
  for (auto _ : state) {
    PrometheusText text;
    metrics.Render(levels, &text);
    std::string body = text.Take();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
  state.counters["series"] = static_cast<double>(n * 4 * 9);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n * 4 * 9));
}
BENCHMARK(BM_RenderLevels)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

BENCHMARK_MAIN();
