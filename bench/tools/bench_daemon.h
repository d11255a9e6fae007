#ifndef MOQ_STATS_BENCH_TOOLS_BENCH_DAEMON_H_
#define MOQ_STATS_BENCH_TOOLS_BENCH_DAEMON_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace moq_stats {
namespace bench {

// The real moq-stats-sidecar daemon as a child process in a scratch
// directory, for the benchmarks that measure it: on a unix socket there,
// admin listener off, its checkpoint there, `extra_flags` after those, and no
// MOQ_STATS_* variable from the environment. It gets SIGKILL if the
// benchmark dies; the destructor stops it (SIGTERM) and removes the
// directory. Use from one thread.
class BenchDaemon {
 public:
  explicit BenchDaemon(const std::vector<std::string>& extra_flags = {});
  ~BenchDaemon();
  BenchDaemon(const BenchDaemon&) = delete;
  BenchDaemon& operator=(const BenchDaemon&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string target() const { return "unix:" + dir_ + "/s.sock"; }

  // User + system CPU seconds the daemon has used (from /proc/<pid>/stat).
  double CpuSeconds() const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace bench
}  // namespace moq_stats

#endif  // MOQ_STATS_BENCH_TOOLS_BENCH_DAEMON_H_
