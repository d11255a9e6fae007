// One whole tick of the node format (server/node/node_publisher.h): the path
// table's report of N live paths, of which a share changed, split into the
// tracks of the depth-0 broadcast, each track's frame, and the frames
// written to an in-memory origin. Args: live paths, percent of them changed
// per tick. Every path counts as a publisher only, so subscriber.json stays
// `{}`. Both traffic tracks' `.json.z` siblings are written too: a delta
// each tick, and every 256 ticks (or when the deltas outgrow their budget)
// a snapshot of the whole frame, which the mean includes once the run is
// long enough (--benchmark_min_time) and max_tick_cpu_ms shows.
//
//   build-release/bench/node_publisher_bench

#include <time.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/server/node/bench_paths.h"
#include "benchmark/benchmark.h"
#include "origin/origin.h"
#include "server/node/node_publisher.h"
#include "server/stats/path_table.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats::server {
namespace {

double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

void BM_NodePublisherTick(benchmark::State& state) {
  const size_t paths = static_cast<size_t>(state.range(0));
  const size_t changed_percent = static_cast<size_t>(state.range(1));
  Origin origin;
  test::SimulatedTime time;
  auto table = std::make_shared<PathTable>();
  std::vector<std::shared_ptr<PathEntry>> held;
  held.reserve(paths);
  for (const std::string& name : bench::BenchPaths(paths)) {
    held.push_back(table->Acquire(Tier::kExternal, Path(name)));
    Counters& c = held.back()->counters(Role::kPublisher);
    c.OpenBroadcast();
    c.OpenSubscription();
    held.back()->MarkChanged();
  }
  NodePublisher::Options options;
  options.origin = &origin;
  options.scheduler = &time.scheduler();  // never run: the bench ticks by hand
  options.clock = &time.clock();
  options.paths = table;
  options.prefix = Path(".stats");
  options.node = Path("bench");
  auto publisher = NodePublisher::Create(options);
  if (!publisher.ok()) {
    state.SkipWithError(std::string(publisher.status().message()).c_str());
    return;
  }
  (*publisher)->Tick();  // the first frame (every path new) is not a steady-state tick
  const size_t stride = changed_percent == 0 ? paths + 1 : 100 / changed_percent;
  uint64_t tick = 0;
  size_t frames = 0;
  double max_tick_ms = 0;
  for (auto _ : state) {
    ++tick;
    for (size_t i = (tick % stride); i < paths; i += stride) {
      held[i]->counters(Role::kPublisher).AddBytes(1200);
      held[i]->MarkChanged();
    }
    const double start = ThreadCpuMs();
    frames += (*publisher)->Tick();
    max_tick_ms = std::max(max_tick_ms, ThreadCpuMs() - start);
  }
  state.counters["frames"] = static_cast<double>(frames);
  // The costliest tick: one whose `.json.z` siblings opened a group with a
  // snapshot of the whole frame (every 256 ticks at 1% changed).
  state.counters["max_tick_cpu_ms"] = max_tick_ms;
}
// Enough ticks at 1% changed to cover more than two whole groups of the
// `.json.z` siblings, so the mean includes their snapshots.
BENCHMARK(BM_NodePublisherTick)->Args({10000, 1})->Args({100000, 1})->Iterations(600)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NodePublisherTick)->Args({10000, 100})->Args({100000, 100})->Iterations(20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

BENCHMARK_MAIN();
