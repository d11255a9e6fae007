#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROCESS_USAGE_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROCESS_USAGE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "absl/time/time.h"

namespace moq_stats {
namespace integration {

// What a process costs right now, read from /proc (Linux): for tests that
// bound the daemon's memory and CPU under load.

// The resident set size in KiB (VmRSS of /proc/<pid>/status); nullopt when
// the process is gone.
std::optional<uint64_t> ResidentKib(pid_t pid);

// The CPU time used so far, user and system (utime + stime of
// /proc/<pid>/stat); nullopt when the process is gone.
std::optional<absl::Duration> CpuTime(pid_t pid);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROCESS_USAGE_H_
