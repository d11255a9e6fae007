#include "bench/tools/bench_daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

extern char** environ;

namespace moq_stats {
namespace bench {

BenchDaemon::BenchDaemon(const std::vector<std::string>& extra_flags) {
  char dir_template[] = "/tmp/moq-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return;
  dir_ = dir;
  // argv and envp are built before fork: after it only async-signal-safe
  // calls.
  std::vector<std::string> args = {MOQSTATS_SIDECAR_BINARY, "--listen=unix:" + dir_ + "/s.sock",
                                   "--admin-listen=", "--checkpoint-path=" + dir_ + "/checkpoint",
                                   "--log-level=warning"};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::string(*e).compare(0, 10, "MOQ_STATS_") != 0) env.push_back(*e);
  }
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
    if (getppid() != parent) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
}

BenchDaemon::~BenchDaemon() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
}

double BenchDaemon::CpuSeconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The fields after the command name (which may hold spaces) start after
  // the last ')'; utime and stime are fields 14 and 15 of the line, 12 and
  // 13 (0-based 11, 12) after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t start = close + 2;
  while (start < stat.size()) {
    size_t end = stat.find(' ', start);
    if (end == std::string::npos) end = stat.size();
    fields.push_back(stat.substr(start, end - start));
    start = end + 1;
  }
  if (fields.size() < 13) return 0;
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace bench
}  // namespace moq_stats
