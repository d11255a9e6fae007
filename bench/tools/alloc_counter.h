// The counting allocator of client_bench: alloc_counter.cc replaces the global
// operator new/delete with versions that count every allocation, process-wide
// and per thread. Linked into client_bench only (add it to a target's sources,
// not to a library: the replacement must be in the binary that measures).

#ifndef MOQ_STATS_BENCH_TOOLS_ALLOC_COUNTER_H_
#define MOQ_STATS_BENCH_TOOLS_ALLOC_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace alloc_count {

// Every allocation of the process, from any thread. Atomic because every
// thread allocates; relaxed because it is a tally read between runs, ordering
// nothing.
extern std::atomic<uint64_t> g_process;
// The allocations of the current thread: what a bump on this thread costs.
// Constant-initialised, so reading it allocates nothing.
extern thread_local uint64_t t_thread;

}  // namespace alloc_count

#endif  // MOQ_STATS_BENCH_TOOLS_ALLOC_COUNTER_H_
