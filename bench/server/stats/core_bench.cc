// Benchmarks of the stats core.
//
//   BM_Bump               one bytes(n) bump on a track guard, fanned out over
//                         the levels of its path (levels+1 buckets).
//   BM_BumpSeparateStats  the same with every thread on a Stats of its own.
//   BM_Tick               one tick of every running publisher over N levels,
//                         with every level changed ("changed") or none
//                         ("idle").
//   BM_SchedulerReschedule  diagnostic: the scheduler alone, N tasks that each
//                         reschedule themselves one interval on, as the
//                         publishers do, but do nothing else: the floor of
//                         an idle tick.
//
// Everything runs on a SimulatedClock and a Scheduler that only the benchmark
// drives (RunDue), so no thread ticks behind the benchmark's back.
//
// Abseil's Mutex deadlock detector. Debian 12's Abseil is compiled without
// NDEBUG, so its Mutex runs in debug mode and the deadlock detector is on by
// default: every Lock() looks the mutex up in a global graph whose hash table
// has a fixed 8171 buckets, so a lock costs O(live mutexes / 8171), and the
// core has several mutexes per running level (the lock of its publisher
// slot, the origin's broadcast and four track locks). With 100k levels that
// makes every tick quadratic. A release build of Abseil never runs the detector, so this
// binary switches it off unless told otherwise:
//
//   --mutex_deadlock_detection=off             (default) what release Abseil does
//   --mutex_deadlock_detection=abseil_default  leave Debian's default (on);
//                                              the 100k tick cases then take
//                                              minutes

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "origin/origin.h"
#include "server/stats/stats.h"

namespace moq_stats::server {
namespace {

constexpr absl::Duration kInterval = absl::Seconds(1);

// One aggregator with everything it borrows. Members are declared in the
// order they must be built: the Stats borrows the three before it and is
// destroyed before them.
struct Aggregator {
  explicit Aggregator(uint32_t levels) {
    StatsConfig config;
    config.levels = levels;
    config.interval = kInterval;
    absl::StatusOr<Stats> created = Stats::Create(config, &origin, &scheduler, &clock);
    if (created.ok()) stats = *created;
  }

  SimulatedClock clock;
  Scheduler scheduler;  // never run by the bump benchmarks: publishers never tick
  Origin origin;
  Stats stats;
};

// ---------------------------------------------------------------------------
// Bumps

// Opens a publisher broadcast guard and a track guard on `path` and checks
// that the path has levels+1 buckets (the root plus `levels` prefixes).
struct BumpGuards {
  BumpGuards(const Stats& stats, const std::string& path) {
    BroadcastStats broadcast = stats.tier(Tier::kExternal).broadcast(path);
    buckets = broadcast.levels().size();
    publisher = broadcast.publisher();
    track = publisher.track("video");
  }

  size_t buckets = 0;
  PublisherStats publisher;
  PublisherTrack track;
};

void RunBumps(benchmark::State& state, const Stats& stats, const std::string& path) {
  const auto levels = static_cast<size_t>(state.range(0));
  if (!stats.enabled()) {
    state.SkipWithError("Stats::Create failed");
    return;
  }
  // Opened per thread, before the loop (whose start is a barrier across the
  // benchmark's threads), so none of this is timed.
  BumpGuards guards(stats, path);
  if (guards.buckets != levels + 1) {
    state.SkipWithError("the path does not have levels+1 buckets");
    return;
  }
  for (auto _ : state) {
    guards.track.bytes(1200);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["buckets"] = benchmark::Counter(static_cast<double>(guards.buckets), benchmark::Counter::kAvgThreads);
}

// The Stats that every thread of BM_Bump shares, one per levels value (1..3).
// Built once, on first use, by a function-local static: its initialisation is
// thread-safe, so whichever thread comes first builds all three and the other
// waits. Never destroyed (the guards of a run are all gone by then anyway),
// which keeps exit free of destruction-order questions.
const Stats& SharedStats(int64_t levels) {
  static const std::array<Aggregator*, 4>* const kShared = [] {
    auto* shared = new std::array<Aggregator*, 4>{};
    for (uint32_t l = 1; l <= 3; ++l) (*shared)[l] = new Aggregator(l);
    return shared;
  }();
  return (*kShared)[static_cast<size_t>(levels)]->stats;
}

// One Stats shared by every thread; each thread bumps a different broadcast,
// "t<thread>/b/c/d". Honest caveat: the broadcasts differ from the first
// segment on, but every path still lands on the ROOT level, so with 2 threads
// the root's counters are bumped by both (one cache line bounced between the
// cores on every bump), while the 1..3 deeper levels are per thread.
// BM_BumpSeparateStats below removes that sharing for comparison.
void BM_Bump(benchmark::State& state) {
  RunBumps(state, SharedStats(state.range(0)), absl::StrCat("t", state.thread_index(), "/b/c/d"));
}
BENCHMARK(BM_Bump)->ArgName("levels")->DenseRange(1, 3)->Threads(1)->Threads(2)->UseRealTime();

// Every thread has its own Stats (and clock, scheduler and origin), so no
// counter, level or lock is shared between threads: the no-contention
// baseline for BM_Bump with 2 threads.
void BM_BumpSeparateStats(benchmark::State& state) {
  Aggregator own(static_cast<uint32_t>(state.range(0)));
  RunBumps(state, own.stats, "a/b/c/d");
}
BENCHMARK(BM_BumpSeparateStats)->ArgName("levels")->DenseRange(1, 3)->Threads(1)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// Ticks

// levels = 1 and N distinct first segments "p<i>", each with an open
// broadcast guard and track guard: N levels of their own plus the shared
// root, N+1 publishers running.
struct TickFixture {
  explicit TickFixture(int64_t n) : aggregator(1) {
    if (!aggregator.stats.enabled()) return;
    StatsHandle external = aggregator.stats.tier(Tier::kExternal);
    publishers.reserve(static_cast<size_t>(n));
    tracks.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      publishers.push_back(external.broadcast(absl::StrCat("p", i)).publisher());
      tracks.push_back(publishers.back().track("video"));
    }
  }

  Aggregator aggregator;
  // Declared after the aggregator: the guards go first.
  std::vector<PublisherStats> publishers;
  std::vector<PublisherTrack> tracks;
};

// One tick of every publisher: advance the clock by the interval and run
// what is due. Only RunDue is timed (manual time, steady_clock), so the bumps
// that make the "changed" ticks changed are not. The tick includes reading
// the counters, encoding the JSON frames and writing them to the origin, and
// re-arming every publisher's next tick on the tick wheel.
void BM_Tick(benchmark::State& state, bool changed) {
  const int64_t n = state.range(0);
  const auto levels = static_cast<uint64_t>(n) + 1;  // + the root
  TickFixture fixture(n);
  Aggregator& a = fixture.aggregator;
  if (!a.stats.enabled()) {
    state.SkipWithError("Stats::Create failed");
    return;
  }
  // The first tick (announce + the first frame on all four tracks) is setup,
  // so the timed ticks are steady-state.
  a.scheduler.RunDue(a.clock.Now());
  if (a.stats.level_ticks() != levels || static_cast<uint64_t>(a.stats.running_publishers()) != levels) {
    state.SkipWithError("the first tick did not run one publisher per level");
    return;
  }

  double tick_seconds = 0;
  uint64_t frames = 0;
  for (auto _ : state) {
    if (changed) {
      // Every level's external publisher counters change (the root's too).
      for (const PublisherTrack& track : fixture.tracks) track.bytes(1200);
    }
    a.clock.Advance(kInterval);
    const absl::Time now = a.clock.Now();
    const uint64_t frames_before = a.stats.frames_written();
    const uint64_t ticks_before = a.stats.level_ticks();

    const auto start = std::chrono::steady_clock::now();
    a.scheduler.RunDue(now);
    const auto stop = std::chrono::steady_clock::now();

    const double seconds = std::chrono::duration<double>(stop - start).count();
    state.SetIterationTime(seconds);
    tick_seconds += seconds;
    frames += a.stats.frames_written() - frames_before;
    if (a.stats.level_ticks() - ticks_before != levels) {
      state.SkipWithError("a tick did not run one publisher per level");
      break;
    }
  }

  const double tick_ns = tick_seconds * 1e9;
  const auto ticks = static_cast<double>(state.iterations());
  state.counters["levels"] = static_cast<double>(levels);
  state.counters["frames_per_tick"] = static_cast<double>(frames) / ticks;
  state.counters["ns_per_level"] = tick_ns / (ticks * static_cast<double>(levels));
  if (changed) {
    // One changed track per level, so this is also ns per level per changed
    // track.
    state.counters["ns_per_changed_track"] = frames == 0 ? 0 : tick_ns / static_cast<double>(frames);
  }
}

// Fixed iteration counts: one setup per case (building 100k levels and their
// first tick takes a while), and the whole binary stays well under a minute.
BENCHMARK_CAPTURE(BM_Tick, changed, true)
    ->ArgName("n")
    ->Arg(10'000)
    ->Iterations(100)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Tick, changed, true)
    ->ArgName("n")
    ->Arg(100'000)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Tick, idle, false)
    ->ArgName("n")
    ->Arg(10'000)
    ->Iterations(100)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Tick, idle, false)
    ->ArgName("n")
    ->Arg(100'000)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moq_stats::server

int main(int argc, char** argv) {
  // Takes --mutex_deadlock_detection=... out of argv before the benchmark
  // library sees it.
  constexpr char kFlag[] = "--mutex_deadlock_detection=";
  bool detection_off = true;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof(kFlag) - 1) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    const char* value = argv[i] + sizeof(kFlag) - 1;
    if (std::strcmp(value, "off") == 0) {
      detection_off = true;
    } else if (std::strcmp(value, "abseil_default") == 0) {
      detection_off = false;
    } else {
      std::fprintf(stderr, "%s takes off or abseil_default, got \"%s\"\n", kFlag, value);
      return 1;
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  if (detection_off) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::AddCustomContext("mutex_deadlock_detection", detection_off ? "off" : "abseil_default");

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
