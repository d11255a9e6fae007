// One whole tick of the node format (server/node/node_publisher.h): the path
// table's report of N live paths, of which a share changed, split into the
// tracks of the depth-0 broadcast, each track's frame, and the frames
// written to an in-memory origin. Args: live paths, percent of them changed
// per tick. Every path counts as a publisher only, so subscriber.json stays
// `{}` while its track still looks every path up.
//
//   build-release/bench/node_publisher_bench

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "origin/origin.h"
#include "server/node/node_publisher.h"
#include "server/stats/path_table.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats::server {
namespace {

void BM_NodePublisherTick(benchmark::State& state) {
  const size_t paths = static_cast<size_t>(state.range(0));
  const size_t changed_percent = static_cast<size_t>(state.range(1));
  Origin origin;
  test::SimulatedTime time;
  auto table = std::make_shared<PathTable>();
  std::vector<std::shared_ptr<PathEntry>> held;
  held.reserve(paths);
  for (size_t i = 0; i < paths; ++i) {
    held.push_back(table->Acquire(Tier::kExternal, Path(absl::StrCat("customer-", i % 97, "/room-", i, "/camera"))));
    Counters& c = held.back()->counters(Role::kPublisher);
    c.OpenBroadcast();
    c.OpenSubscription();
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
  for (auto _ : state) {
    ++tick;
    for (size_t i = (tick % stride); i < paths; i += stride) held[i]->counters(Role::kPublisher).AddBytes(1200);
    frames += (*publisher)->Tick();
  }
  state.counters["frames"] = static_cast<double>(frames);
}
BENCHMARK(BM_NodePublisherTick)
    ->Args({10000, 1})
    ->Args({10000, 100})
    ->Args({100000, 1})
    ->Args({100000, 100})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

BENCHMARK_MAIN();
