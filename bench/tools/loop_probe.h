// LoopProbe: what one timed loop of client_bench cost besides time, from the
// counting allocator (alloc_counter.h) and the process's CPU clock.

#ifndef MOQ_STATS_BENCH_TOOLS_LOOP_PROBE_H_
#define MOQ_STATS_BENCH_TOOLS_LOOP_PROBE_H_

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "bench/tools/alloc_counter.h"
#include "benchmark/benchmark.h"

namespace moq_stats::bench {

// Opened right before a timed loop and reported right after it:
//   allocs_per_bump       allocations by this thread, per bump;
//   proc_allocs_per_bump  allocations by every thread of the process, per
//                         bump;
//   cores_busy            the process's CPU time over wall time during the
//                         loop: about 2 when both threads of a 2-thread run
//                         really ran at once, about 1 when the machine's
//                         other load made them take turns (then the 2-thread
//                         row says nothing about contention).
class LoopProbe {
 public:
  LoopProbe()
      : thread_(alloc_count::t_thread),
        process_(alloc_count::g_process.load(std::memory_order_relaxed)),
        cpu_(ProcessCpuSeconds()),
        wall_(std::chrono::steady_clock::now()) {}

  void Report(benchmark::State& state) const {
    const uint64_t thread = alloc_count::t_thread - thread_;
    const uint64_t process = alloc_count::g_process.load(std::memory_order_relaxed) - process_;
    const double cpu = ProcessCpuSeconds() - cpu_;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
    // Summed over the threads and divided by the iterations of all threads.
    state.counters["allocs_per_bump"] =
        benchmark::Counter(static_cast<double>(thread), benchmark::Counter::kAvgIterations);
    // Every thread sees the whole process's count: the average over threads
    // is that count, then per iteration of all threads.
    state.counters["proc_allocs_per_bump"] = benchmark::Counter(
        static_cast<double>(process), benchmark::Counter::kAvgThreads | benchmark::Counter::kAvgIterations);
    state.counters["cores_busy"] = benchmark::Counter(wall > 0 ? cpu / wall : 0, benchmark::Counter::kAvgThreads);
  }

 private:
  static double ProcessCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }

  const uint64_t thread_;
  const uint64_t process_;
  const double cpu_;
  const std::chrono::steady_clock::time_point wall_;
};

}  // namespace moq_stats::bench

#endif  // MOQ_STATS_BENCH_TOOLS_LOOP_PROBE_H_
