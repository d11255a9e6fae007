// One tick of a node-format traffic track's compressed `.json.z` sibling
// (server/node/compressed_track.h) in steady state: the plain frame of N
// live paths of which a share changed each tick (server/node/node_track.h)
// and its merge patch, encoded with moq's defaults (delta ratio 8, 256
// frames per group) onto an origin track: the patch compressed as a delta,
// or the frame as a group's snapshot. Args: live paths, percent of them
// changed per tick. The time is the `.json.z` step only (encode + write);
// the plain frame is built with the timer paused.
//
// Counters:
//   plain_bytes     the plain frame's bytes, each tick
//   z_bytes         mean `.json.z` bytes per measured tick (a group's
//                   snapshot counts in the tick that wrote it)
//   snapshot_bytes  the latest snapshot frame's bytes
//   delta_bytes     mean delta frame bytes over the measured ticks
//   group_frames    frames per group the budget allows at those sizes
//   steady_z_bytes  bytes per tick over a whole group: (snapshot + deltas)
//                   / group_frames, from the measured sizes
//   steady_ratio    steady_z_bytes / plain_bytes
//
//   make bench   (or build-release/bench/compressed_track_bench)

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/server/node/bench_paths.h"
#include "benchmark/benchmark.h"
#include "origin/origin.h"
#include "server/node/compressed_track.h"
#include "server/node/node_track.h"

namespace moq_stats::server {
namespace {

void BM_CompressedTrackTick(benchmark::State& state) {
  const size_t paths = static_cast<size_t>(state.range(0));
  const size_t changed_percent = static_cast<size_t>(state.range(1));
  const std::vector<std::string> names = bench::BenchPaths(paths);
  std::vector<Counts> counts(paths, bench::LivePathCounts());
  Origin origin;
  auto broadcast = origin.Publish(Path("stats/node"), {"publisher.json.z"});
  if (!broadcast.ok()) {
    state.SkipWithError("cannot publish");
    return;
  }
  TrackProducer* producer = (*broadcast)->track("publisher.json.z");
  NodeTrack plain;
  CompressedTrack compressed(producer);
  const size_t stride = changed_percent == 0 ? paths + 1 : 100 / changed_percent;
  uint64_t tick = 0;

  // The plain frame of the next tick.
  auto next_frame = [&] {
    ++tick;
    for (size_t i = (tick % stride); i < paths; i += stride) {
      counts[i].bytes += 1200;
      counts[i].frames += 1;
    }
    std::vector<NodeTrack::Entry> entries;
    for (size_t i = (tick == 1 ? 0 : tick % stride); i < paths; i += (tick == 1 ? 1 : stride)) {
      entries.push_back(NodeTrack::Entry{names[i], counts[i]});
    }
    return plain.Tick(entries);
  };
  auto write = [&](const NodeFrame& frame) { return compressed.WriteText(*frame.text, frame.patch).ok(); };
  // The first tick, a snapshot, before the measurement.
  std::optional<NodeFrame> first = next_frame();
  if (!first || !write(*first)) {
    state.SkipWithError("the first tick failed");
    return;
  }

  size_t plain_bytes = first->text->size();
  uint64_t z_bytes = 0;
  uint64_t delta_bytes = 0;
  uint64_t deltas = 0;
  uint64_t ticks = 0;
  size_t snapshot_bytes = producer->latest_group().front().frame->size();
  for (auto _ : state) {
    state.PauseTiming();
    std::optional<NodeFrame> frame = next_frame();
    state.ResumeTiming();
    if (!frame) continue;
    plain_bytes = frame->text->size();
    const uint64_t before = compressed.bytes();
    if (!write(*frame)) {
      state.SkipWithError("write failed");
      return;
    }
    const uint64_t written = compressed.bytes() - before;
    z_bytes += written;
    ++ticks;
    if (std::optional<Group> latest = producer->latest(); latest && latest->index == 0) {
      snapshot_bytes = latest->frame->size();
    } else {
      delta_bytes += written;
      ++deltas;
    }
  }
  const double mean_delta = deltas == 0 ? 0 : static_cast<double>(delta_bytes) / static_cast<double>(deltas);
  // The encoder's rule: deltas go on while those already written add up to
  // at most 8 times the snapshot, up to 256 frames.
  double group_frames = 1;
  for (double sum = 0; group_frames < 256 && sum <= 8.0 * static_cast<double>(snapshot_bytes); sum += mean_delta) {
    ++group_frames;
    if (mean_delta == 0) break;
  }
  const double steady = (static_cast<double>(snapshot_bytes) + (group_frames - 1) * mean_delta) / group_frames;
  state.counters["plain_bytes"] = static_cast<double>(plain_bytes);
  state.counters["z_bytes"] = ticks == 0 ? 0 : static_cast<double>(z_bytes) / static_cast<double>(ticks);
  state.counters["snapshot_bytes"] = static_cast<double>(snapshot_bytes);
  state.counters["delta_bytes"] = mean_delta;
  state.counters["group_frames"] = group_frames;
  state.counters["steady_z_bytes"] = steady;
  state.counters["steady_ratio"] = steady / static_cast<double>(plain_bytes);
}
BENCHMARK(BM_CompressedTrackTick)->Args({10000, 1})->Args({10000, 100})->Iterations(60)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompressedTrackTick)
    ->Args({100000, 1})
    ->Args({100000, 100})
    ->Iterations(12)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

BENCHMARK_MAIN();
