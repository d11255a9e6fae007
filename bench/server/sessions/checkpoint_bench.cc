// What a checkpoint costs with many levels: taking the cut
// (SessionRegistry::Capture, which holds ingestion while it runs) and writing
// the file (WriteCheckpointFile: serialise, CRC, write, fsync, rename, fsync
// of the directory, on the checkpointer thread). Reports the file's size.
//
//   BM_Capture/N  the cut of N levels (plus the root), each with counts in
//                 all four (tier, role) sets, and no session.
//   BM_Write/N    writing that cut to a file under $TMPDIR (default /tmp).
//   BM_CapturePaths/N  the cut with the node format on: N live paths in the
//                 path table (twelve counters each, held), no level.
//
// Everything runs on a SimulatedClock and a Scheduler nobody drives: no
// publisher ticks and nothing is freed behind the benchmark's back.

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "server/sessions/checkpoint_file.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"

namespace moq_stats::server {
namespace {

// An aggregator holding `levels` levels with counts and, when `paths` is
// not 0, counting paths with `paths` live ones held, and its registry.
struct Fixture {
  explicit Fixture(int64_t levels, int64_t paths = 0) {
    StatsConfig config;
    config.levels = 2;
    config.max_levels = 0;
    config.count_paths = paths > 0;
    absl::StatusOr<Stats> created = Stats::Create(config, &origin, &scheduler, &clock);
    if (!created.ok()) return;
    stats = *created;
    registry = SessionRegistry::Create(stats, &scheduler, &clock, SessionRegistryOptions());
    std::array<Counts, kTierRoleCount> counts{};
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      // Closed guards with traffic: no publisher starts, the numbers are of
      // a realistic width.
      counts[i].broadcasts = counts[i].broadcasts_closed = 1000 + i;
      counts[i].subscriptions = counts[i].subscriptions_closed = 50'000 + i;
      counts[i].bytes = 123'456'789'012 + i;
      counts[i].frames = 9'876'543 + i;
      counts[i].groups = 87'654 + i;
    }
    for (int64_t i = 0; i < levels; ++i) {
      stats.RestoreLevel(Path(absl::StrCat("relay-", i % 100, "/broadcast-", i)), counts, clock.UnixMillis());
    }
    // A live path: one broadcast and ten subscriptions open, announced.
    Counts live = counts[0];
    live.broadcasts = live.announced = 1;
    live.broadcasts_closed = 0;
    live.announced_bytes = 40;
    live.subscriptions_closed = live.subscriptions - 10;
    for (int64_t i = 0; i < paths; ++i) {
      held.push_back(
          stats.paths()->Acquire(Tier::kExternal, Path(absl::StrCat("customer-", i % 97, "/room-", i, "/camera"))));
      held.back()->counters(Role::kPublisher).Add(live);
      held.back()->MarkChanged();
    }
  }

  SimulatedClock clock;
  Scheduler scheduler;
  Origin origin;
  Stats stats;
  std::shared_ptr<SessionRegistry> registry;
  std::vector<std::shared_ptr<PathEntry>> held;
};

// Takes the cut of `f` once per iteration; the file's size in file_MB.
void CaptureEach(benchmark::State& state, const Fixture& f) {
  if (!f.registry) {
    state.SkipWithError("Stats::Create failed");
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    moq::stats::v1::Checkpoint checkpoint = f.registry->Capture(f.clock.UnixMillis());
    bytes = checkpoint.ByteSizeLong();
    benchmark::DoNotOptimize(checkpoint);
  }
  state.counters["file_MB"] = double(bytes) / 1e6;
}

void BM_Capture(benchmark::State& state) {
  Fixture f(state.range(0));
  CaptureEach(state, f);
  state.counters["levels"] = double(f.stats.level_count());
}

void BM_CapturePaths(benchmark::State& state) {
  Fixture f(/*levels=*/0, state.range(0));
  CaptureEach(state, f);
  state.counters["paths"] = double(f.held.size());
}

void BM_Write(benchmark::State& state) {
  Fixture f(state.range(0));
  if (!f.registry) {
    state.SkipWithError("Stats::Create failed");
    return;
  }
  const moq::stats::v1::Checkpoint checkpoint = f.registry->Capture(f.clock.UnixMillis());
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/checkpoint_bench.", getpid());
  for (auto _ : state) {
    absl::Status s = WriteCheckpointFile(path, checkpoint);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
  unlink(path.c_str());
  state.counters["file_MB"] = double(checkpoint.ByteSizeLong()) / 1e6;
}

BENCHMARK(BM_Capture)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Write)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CapturePaths)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

int main(int argc, char** argv) {
  // As in core_bench: Debian's debug Abseil runs its deadlock detector on
  // every lock; a release build does not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
