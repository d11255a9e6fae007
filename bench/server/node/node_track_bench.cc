// One tick of a node-format traffic track (server/node/node_track.h): the
// frame built after a tick where a share of N live paths changed, and its
// size. Args: live paths, percent of them changed per tick.
// BM_NodeTrackTick is the track, given the changed paths alone (as the path
// table reports them); BM_RebuiltNodeTrackTick builds every frame from
// scratch from every path (tests/server/node/test_tools/rebuilt_node_track.h,
// the oracle of the track's tests), for comparison on the same machine.
//
//   make bench   (or build-release/bench/node_track_bench)

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/server/node/bench_paths.h"
#include "benchmark/benchmark.h"
#include "server/node/node_track.h"
#include "tests/server/node/test_tools/rebuilt_node_track.h"

namespace moq_stats::server {
namespace {

const std::string& Text(const NodeFrame& frame) { return *frame.text; }
const std::string& Text(const std::string& frame) { return frame; }

template <typename Track>
void BM_Tick(benchmark::State& state) {
  const size_t paths = static_cast<size_t>(state.range(0));
  const size_t changed_percent = static_cast<size_t>(state.range(1));
  const std::vector<std::string> names = bench::BenchPaths(paths);
  std::vector<Counts> counts(paths, bench::LivePathCounts());
  Track track;
  // The first frame (every path new) is not a steady-state tick.
  {
    std::vector<NodeTrack::Entry> entries;
    for (size_t i = 0; i < paths; ++i) entries.push_back(NodeTrack::Entry{names[i], counts[i]});
    benchmark::DoNotOptimize(track.Tick(std::move(entries)));
  }
  const size_t stride = changed_percent == 0 ? paths + 1 : 100 / changed_percent;
  uint64_t tick = 0;
  size_t frame_bytes = 0;
  size_t frames = 0;
  for (auto _ : state) {
    ++tick;
    for (size_t i = (tick % stride); i < paths; i += stride) {
      counts[i].bytes += 1200;
      counts[i].frames += 1;
    }
    std::vector<NodeTrack::Entry> entries;
    if constexpr (std::is_same_v<Track, NodeTrack>) {
      for (size_t i = (tick % stride); i < paths; i += stride) entries.push_back(NodeTrack::Entry{names[i], counts[i]});
    } else {
      entries.reserve(paths);
      for (size_t i = 0; i < paths; ++i) entries.push_back(NodeTrack::Entry{names[i], counts[i]});
    }
    auto frame = track.Tick(std::move(entries));
    if (frame) {
      frame_bytes = Text(*frame).size();
      ++frames;
    }
    benchmark::DoNotOptimize(frame);
  }
  state.counters["frame_bytes"] = static_cast<double>(frame_bytes);
  state.counters["frames"] = static_cast<double>(frames);
}
void BM_NodeTrackTick(benchmark::State& state) { BM_Tick<NodeTrack>(state); }
void BM_RebuiltNodeTrackTick(benchmark::State& state) { BM_Tick<test::RebuiltNodeTrack>(state); }

void Sizes(benchmark::internal::Benchmark* b) {
  b->Args({10000, 1})->Args({10000, 100})->Args({100000, 1})->Args({100000, 100})->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_NodeTrackTick)->Apply(Sizes);
BENCHMARK(BM_RebuiltNodeTrackTick)->Apply(Sizes);

}  // namespace
}  // namespace moq_stats::server

BENCHMARK_MAIN();
