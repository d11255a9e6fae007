// The cost of one counter bump on the relay's side, four ways, side by side,
// on one thread and on two threads bumping different broadcasts:
//
//   a_library_bytes        one TrackGuard::bytes(n) through the relay-side
//                          library (moq_stats/stats.h), on a Stats connected
//                          to the real moq-stats-sidecar daemon that main
//                          starts, so the flusher really runs and streams the
//                          deltas (--library_target=unreachable points it at a
//                          socket nobody listens on instead).
//   b_raw_fetch_add        one relaxed fetch_add on a std::atomic of the
//                          thread's own (each thread its own 64-byte-aligned
//                          atomic): the floor.
//   c_inprocess_levels2    the in-process design: a PublisherTrack of the
//                          aggregator itself (server/stats/stats.h),
//                          levels = 2, whose bytes(n) fans out to every level
//                          of the path (3 buckets: the root, "t<i>",
//                          "t<i>/b"). With 2 threads the broadcasts differ but
//                          both land on the ROOT level: its cache line bounces
//                          between the cores on every bump. That contention is
//                          the point of the comparison.
//   d_unary_grpc_roundtrip one unary gRPC call per bump to the sidecar. The
//                          contract has no unary bump RPC, so this is the
//                          floor of that design: one GetLevel("") round trip
//                          to the real daemon over its unix socket (one
//                          channel shared by the threads, as a relay would
//                          share it). Not a bump: a lower bound on one.
//
// Time is wall time (UseRealTime). With 2 threads Google Benchmark divides
// the wall time by the iterations of both threads, so its "Time" column is
// wall time per bump of the process; the time one thread takes for one bump
// is that times the thread count, which the summary printed after the table
// shows as "per thread".
//
// Allocations: this binary replaces the global operator new/delete with
// counting versions (a process-wide relaxed atomic counter plus a per-thread
// one; alloc_counter.cc). Each bump case reports, through LoopProbe
// (loop_probe.h),
//   allocs_per_bump       allocations made by the bumping thread inside the
//                         timed loop, per bump (the target: 0);
//   proc_allocs_per_bump  allocations made by every thread of the process
//                         during the loop, per bump (gRPC, the library's
//                         flusher and the other bump thread included).
// and cores_busy, the process's CPU time over wall time during the loop: a
// 2-thread row only says whether the threads slow each other when it is near
// 2 (on a shared machine they may have taken turns on one core). The summary
// judges that target by one thread's CPU time per bump (cache-line
// contention costs cycles; being descheduled does not), and only when the
// threads ran at once.
//
// After the runs, main shuts the library down and checks that the daemon's
// root level holds exactly the bytes that a_library_bytes bumped.
//
//   client_bench [--library_target=daemon|unreachable] [benchmark flags]

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/tools/bench_daemon.h"
#include "bench/tools/loop_probe.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "origin/origin.h"
#include "server/stats/stats.h"

extern char** environ;

namespace moq_stats {
namespace bench {
namespace {

namespace pb = ::moq::stats::v1;

constexpr uint64_t kBumpBytes = 1200;

// ---------------------------------------------------------------------------
// Shared state, set up by main before any benchmark runs.

struct Globals {
  moq_stats::Stats library;                             // (a)
  bool library_to_daemon = true;                        // false: --library_target=unreachable
  std::unique_ptr<pb::StatsService::Stub> daemon_stub;  // (d); null without a daemon
  // Bytes bumped through (a) in all, for the exactness check at the end.
  // Atomic because the threads of a 2-thread run add to it concurrently.
  std::atomic<uint64_t> library_bytes{0};
};
Globals* g = nullptr;

// ---------------------------------------------------------------------------
// (a) the library

void BM_LibraryBytes(benchmark::State& state) {
  // Opened per thread before the loop (whose start is a barrier across the
  // threads), so none of it is timed: a broadcast of this thread's own.
  moq_stats::BroadcastStats broadcast =
      g->library.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("bench/t", state.thread_index()));
  if (broadcast.empty()) {
    state.SkipWithError("the library gave an empty handle");
    return;
  }
  // publisher_track rather than publisher.track(): the same counts (a
  // broadcast guard and a track guard), but BroadcastGuard<R>::track leaves
  // its `name` unused, which -Wextra -Werror refuses when it is instantiated.
  moq_stats::PublisherStats publisher = broadcast.publisher();
  moq_stats::PublisherTrack track = broadcast.publisher_track("video");
  const LoopProbe probe;
  for (auto _ : state) {
    track.bytes(kBumpBytes);
  }
  probe.Report(state);
  g->library_bytes.fetch_add(static_cast<uint64_t>(state.iterations()) * kBumpBytes, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------
// (b) the floor

// One atomic per thread, each alone on its cache line.
struct alignas(64) PaddedCounter {
  std::atomic<uint64_t> value{0};
};
PaddedCounter g_raw[2];

void BM_RawFetchAdd(benchmark::State& state) {
  std::atomic<uint64_t>& counter = g_raw[state.thread_index() % 2].value;
  const LoopProbe probe;
  for (auto _ : state) {
    counter.fetch_add(kBumpBytes, std::memory_order_relaxed);
  }
  probe.Report(state);
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------
// (c) the in-process design, as core_bench runs it

// One aggregator with everything it borrows; the server::Stats is built last and
// destroyed first. The scheduler is never run, so publishers never tick.
struct Aggregator {
  explicit Aggregator(uint32_t levels) {
    server::StatsConfig config;
    config.levels = levels;
    absl::StatusOr<server::Stats> created = server::Stats::Create(config, &origin, &scheduler, &clock);
    if (created.ok()) stats = *created;
  }

  SimulatedClock clock;
  Scheduler scheduler;
  Origin origin;
  server::Stats stats;
};

// Shared by both threads of a 2-thread run (a function-local static: built
// once, thread-safely; never destroyed).
const server::Stats& InProcessStats() {
  static const Aggregator* const kAggregator = new Aggregator(2);
  return kAggregator->stats;
}

void BM_InProcessBytes(benchmark::State& state) {
  const server::Stats& stats = InProcessStats();
  if (!stats.enabled()) {
    state.SkipWithError("server::Stats::Create failed");
    return;
  }
  server::BroadcastStats broadcast =
      stats.tier(Tier::kExternal).broadcast(absl::StrCat("t", state.thread_index(), "/b/c"));
  if (broadcast.levels().size() != 3) {
    state.SkipWithError("the path does not have 3 buckets (root + 2 levels)");
    return;
  }
  server::PublisherStats publisher = broadcast.publisher();
  server::PublisherTrack track = publisher.track("video");
  const LoopProbe probe;
  for (auto _ : state) {
    track.bytes(kBumpBytes);
  }
  probe.Report(state);
  state.SetItemsProcessed(state.iterations());
  state.counters["buckets"] = benchmark::Counter(3, benchmark::Counter::kAvgThreads);
}

// ---------------------------------------------------------------------------
// (d) one unary round trip per bump

void BM_UnaryRoundTrip(benchmark::State& state) {
  if (!g->daemon_stub) {
    state.SkipWithError("no daemon (--library_target=unreachable runs without one)");
    return;
  }
  pb::GetLevelRequest request;  // key "": the root
  pb::GetLevelResponse response;
  const LoopProbe probe;
  for (auto _ : state) {
    grpc::ClientContext context;
    grpc::Status status = g->daemon_stub->GetLevel(&context, request, &response);
    if (!status.ok()) {
      state.SkipWithError(absl::StrCat("GetLevel: ", status.error_message()).c_str());
      break;
    }
  }
  probe.Report(state);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_LibraryBytes)->Name("a_library_bytes")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_RawFetchAdd)->Name("b_raw_fetch_add")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_InProcessBytes)->Name("c_inprocess_levels2")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_UnaryRoundTrip)
    ->Name("d_unary_grpc_roundtrip_GetLevel_floor")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------
// The console table, then a summary of the targets.

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : benchmark::ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      Result& r = results_[std::make_pair(run.run_name.function_name, run.threads)];
      r.wall_ns += ToNs(run.GetAdjustedRealTime(), run.time_unit);
      r.cpu_ns += ToNs(run.GetAdjustedCPUTime(), run.time_unit);
      if (auto it = run.counters.find("allocs_per_bump"); it != run.counters.end()) {
        r.allocs_max = std::max(r.allocs_max, it->second.value);
      }
      if (auto it = run.counters.find("cores_busy"); it != run.counters.end()) r.cores_busy += it->second.value;
      ++r.runs;
    }
  }

  // Prints the summary; returns false when a target is missed or could not
  // be judged.
  bool PrintSummary(bool library_to_daemon) const {
    struct Case {
      const char* name;
      const char* label;
    };
    const Case cases[] = {
        {"a_library_bytes", library_to_daemon ? "(a) library bytes(n), flusher -> real daemon"
                                              : "(a) library bytes(n), target unreachable"},
        {"b_raw_fetch_add", "(b) raw relaxed fetch_add (floor)"},
        {"c_inprocess_levels2", "(c) in-process server Stats, levels=2"},
        {"d_unary_grpc_roundtrip_GetLevel_floor", "(d) unary gRPC round trip (GetLevel root)"},
    };
    std::printf(
        "\nSummary, ns per bump.\n"
        "  wall 1t / wall 2t: the Time column (2 threads: wall time / bumps of both threads);\n"
        "  wall/thr 2t:       wall time one thread takes per bump with 2 threads (= wall 2t x 2);\n"
        "  cpu/thr 1t, 2t:    one thread's CPU time per bump (the CPU column): cache-line contention\n"
        "                     costs CPU cycles, being descheduled by other load does not;\n"
        "  cores 2t:          process CPU / wall during the 2-thread loop (~2: the threads ran at once).\n");
    std::printf("%-45s %10s %10s %11s %10s %10s %8s %8s %11s\n", "case", "wall 1t", "wall 2t", "wall/thr 2t",
                "cpu/thr 1t", "cpu/thr 2t", "cpu 2/1", "cores 2t", "allocs/bump");
    for (const Case& c : cases) {
      const Result one = Get(c.name, 1), two = Get(c.name, 2);
      std::printf("%-45s %10.2f %10.2f %11.2f %10.2f %10.2f %8.2f %8.2f %11.3g\n", c.label, one.wall_ns, two.wall_ns,
                  two.wall_ns * 2, one.cpu_ns, two.cpu_ns, two.cpu_ns / one.cpu_ns, two.cores_busy,
                  std::max(one.allocs_max, two.allocs_max));
    }
    bool all = true;
    auto verdict = [&all](bool met) {
      all = all && met;
      return met ? "met" : "NOT met";
    };
    const Result a1 = Get("a_library_bytes", 1), a2 = Get("a_library_bytes", 2);
    const Result b1 = Get("b_raw_fetch_add", 1), b2 = Get("b_raw_fetch_add", 2);
    const Result c1 = Get("c_inprocess_levels2", 1), c2 = Get("c_inprocess_levels2", 2);
    const Result d1 = Get("d_unary_grpc_roundtrip_GetLevel_floor", 1);
    const Result d2 = Get("d_unary_grpc_roundtrip_GetLevel_floor", 2);
    std::printf("\nTargets (wall time per bump, as the Time column):\n");
    std::printf("  (a) within 1.5x of (b):       1 thread a/b = %.2f, 2 threads a/b = %.2f (cpu: %.2f, %.2f)  -> %s\n",
                a1.wall_ns / b1.wall_ns, a2.wall_ns / b2.wall_ns, a1.cpu_ns / b1.cpu_ns, a2.cpu_ns / b2.cpu_ns,
                verdict(a1.wall_ns <= 1.5 * b1.wall_ns && a2.wall_ns <= 1.5 * b2.wall_ns));
    std::printf("  (a) faster than (c):          1 thread c/a = %.2f, 2 threads c/a = %.2f  -> %s\n",
                c1.wall_ns / a1.wall_ns, c2.wall_ns / a2.wall_ns,
                verdict(a1.wall_ns < c1.wall_ns && a2.wall_ns < c2.wall_ns));
    if (d1.runs > 0 && d2.runs > 0) {
      std::printf("  (a) >= 100x faster than (d):  1 thread d/a = %.0f, 2 threads d/a = %.0f  -> %s\n",
                  d1.wall_ns / a1.wall_ns, d2.wall_ns / a2.wall_ns,
                  verdict(d1.wall_ns >= 100 * a1.wall_ns && d2.wall_ns >= 100 * a2.wall_ns));
    } else {
      std::printf("  (a) >= 100x faster than (d):  (d) did not run  -> NOT measured\n");
      all = false;
    }
    // "Do not slow each other": one thread's CPU time per bump grows by at
    // most 25% with a second thread bumping another broadcast, judged only
    // when the two threads really ran at once (cores >= 1.6); (c), whose
    // threads share the root level's cache line, shows what contention looks
    // like in the same run.
    const bool concurrent = a2.cores_busy >= 1.6;
    const bool independent = a2.cpu_ns <= 1.25 * a1.cpu_ns;
    std::printf(
        "  2 threads on different broadcasts do not slow each other (cpu/thr 2t <= 1.25 x 1t, threads\n"
        "  ran at once): (a) cpu 2/1 = %.2f, wall/thr 2/1 = %.2f, cores %.2f; for reference (b) cpu 2/1 = "
        "%.2f, (c) cpu 2/1 = %.2f (cores %.2f)  -> %s\n",
        a2.cpu_ns / a1.cpu_ns, a2.wall_ns * 2 / a1.wall_ns, a2.cores_busy, b2.cpu_ns / b1.cpu_ns, c2.cpu_ns / c1.cpu_ns,
        c2.cores_busy,
        concurrent ? verdict(independent) : (all = false, "INCONCLUSIVE: the threads did not run at once"));
    const double a_allocs = std::max(a1.allocs_max, a2.allocs_max);
    std::printf("  zero allocations per bump:    (a) %.3g on the bumping thread  -> %s\n", a_allocs,
                verdict(a_allocs == 0));
    return all;
  }

 private:
  struct Result {
    double wall_ns = 0;
    double cpu_ns = 0;
    double cores_busy = 0;
    double allocs_max = 0;
    int runs = 0;
  };

  static double ToNs(double value, benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kNanosecond:
        return value;
      case benchmark::kMicrosecond:
        return value * 1e3;
      case benchmark::kMillisecond:
        return value * 1e6;
      case benchmark::kSecond:
        return value * 1e9;
    }
    return value;
  }
  // The mean over repetitions.
  Result Get(const std::string& name, int64_t threads) const {
    auto it = results_.find(std::make_pair(name, threads));
    if (it == results_.end() || it->second.runs == 0) return Result{};
    Result r = it->second;
    r.wall_ns /= r.runs;
    r.cpu_ns /= r.runs;
    r.cores_busy /= r.runs;
    return r;
  }

  std::map<std::pair<std::string, int64_t>, Result> results_;
};

// Root-level external publisher counters, or an error.
bool RootPublisher(pb::StatsService::Stub* stub, pb::Snapshot* out, std::string* error) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  pb::GetLevelRequest request;
  pb::GetLevelResponse response;
  grpc::Status status = stub->GetLevel(&context, request, &response);
  if (!status.ok()) {
    *error = status.error_message();
    return false;
  }
  *out = response.level().external_publisher();
  return true;
}

int Main(int argc, char** argv) {
  // Takes --library_target=... out of argv before the benchmark library sees
  // it.
  constexpr char kFlag[] = "--library_target=";
  bool to_daemon = true;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof(kFlag) - 1) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    const std::string value = argv[i] + sizeof(kFlag) - 1;
    if (value == "daemon") {
      to_daemon = true;
    } else if (value == "unreachable") {
      to_daemon = false;
    } else {
      std::fprintf(stderr, "%s takes daemon or unreachable, got \"%s\"\n", kFlag, value.c_str());
      return 2;
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  // As core_bench: Debian's debug Abseil runs the Mutex deadlock detector;
  // a release Abseil does not. No mutex is on any timed path here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Forked before any thread exists. The daemon serves (d) in both modes.
  bench::BenchDaemon daemon;
  if (!daemon.started()) {
    std::fprintf(stderr, "could not start %s\n", MOQSTATS_SIDECAR_BINARY);
    return 1;
  }
  auto channel = grpc::CreateChannel(daemon.target(), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "the daemon did not come up at %s\n", daemon.target().c_str());
    return 1;
  }

  Globals globals;
  g = &globals;
  globals.daemon_stub = pb::StatsService::NewStub(channel);
  globals.library_to_daemon = to_daemon;
  const std::string library_target = to_daemon ? daemon.target() : "unix:/nonexistent/moq-client-bench.sock";
  moq_stats::Options options;
  options.relay_name = "client_bench";
  globals.library = moq_stats::Stats::Connect(library_target, options);

  // Warm-up: a broadcast bumped once and seen in the daemon's root level, so
  // the flusher is known to work and the root level exists for (d). Its
  // guards stay open through the runs, which keeps the root level alive.
  uint64_t warmup_bytes = 0;
  moq_stats::BroadcastStats warmup = globals.library.tier(moq_stats::Tier::kExternal).broadcast("bench/warmup");
  moq_stats::PublisherStats warmup_publisher = warmup.publisher();
  moq_stats::PublisherTrack warmup_track = warmup.publisher_track("video");
  warmup_track.bytes(kBumpBytes);
  warmup_bytes += kBumpBytes;
  if (to_daemon) {
    pb::Snapshot root;
    std::string error;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!(RootPublisher(globals.daemon_stub.get(), &root, &error) && root.bytes() == warmup_bytes)) {
      if (std::chrono::steady_clock::now() > until) {
        std::fprintf(stderr, "the library's warm-up bump never reached the daemon (%s)\n", error.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  } else {
    // (d) still needs the root level: open it on the daemon directly.
    grpc::ClientContext context;
    auto stream = globals.daemon_stub->Session(&context);
    pb::SessionRequest request;
    request.mutable_open()->set_session_id("client-bench-root");
    stream->Write(request);
    pb::SessionResponse response;
    stream->Read(&response);
    request.Clear();
    pb::Batch* batch = request.mutable_batch();
    batch->set_sequence(1);
    pb::Define* define = batch->add_defines();
    define->set_handle(1);
    define->set_path("bench/root");
    define->set_tier(pb::TIER_EXTERNAL);
    pb::HandleDelta* delta = batch->add_deltas();
    delta->set_handle(1);
    delta->set_role(pb::ROLE_PUBLISHER);
    delta->set_bytes(1);
    stream->Write(request);
    stream->Read(&response);
    request.Clear();
    request.mutable_close();
    stream->Write(request);
    stream->WritesDone();
    stream->Finish().ok();
  }

  benchmark::AddCustomContext("library_target", to_daemon ? "real daemon (flusher streaming), " + library_target
                                                          : "unreachable (" + library_target + ")");
  benchmark::AddCustomContext("daemon_pid", std::to_string(daemon.pid()));
  benchmark::AddCustomContext("allocs_per_bump", "allocations by the bumping thread in the timed loop / bumps");
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  // Everything (a) bumped must be in the daemon, exactly.
  bool exact = true;
  moq_stats::ClientCounters counters = globals.library.counters();
  warmup_track = moq_stats::PublisherTrack();
  warmup_publisher = moq_stats::PublisherStats();
  warmup = moq_stats::BroadcastStats();
  const bool flushed = globals.library.Shutdown(std::chrono::seconds(10));
  if (to_daemon) {
    pb::Snapshot root;
    std::string error;
    const uint64_t expected = warmup_bytes + globals.library_bytes.load();
    const bool read = RootPublisher(globals.daemon_stub.get(), &root, &error);
    exact = flushed && read && root.bytes() == expected;
    std::printf(
        "\nlibrary -> daemon: %llu bytes bumped, daemon root level has %llu; %llu batches, %llu deltas sent; "
        "exact: %s\n",
        static_cast<unsigned long long>(expected), static_cast<unsigned long long>(root.bytes()),
        static_cast<unsigned long long>(counters.batches_sent), static_cast<unsigned long long>(counters.deltas_sent),
        exact ? "yes" : "NO");
  } else {
    std::printf("\nlibrary target unreachable: connected=%s, last error: %s\n", counters.connected ? "yes" : "no",
                counters.last_error.c_str());
  }
  const bool targets = reporter.PrintSummary(to_daemon);
  std::printf("\nall targets met: %s\n", targets ? "yes" : "no");
  return exact ? 0 : 1;
}

}  // namespace
}  // namespace bench
}  // namespace moq_stats

int main(int argc, char** argv) { return moq_stats::bench::Main(argc, argv); }