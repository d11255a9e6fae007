#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_C_RELAY_PROCESS_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_C_RELAY_PROCESS_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "moq_stats/counts.h"

namespace moq_stats {
namespace faults {
namespace test {

// fault_c_relay (tests/faults/test_tools/fault_c_relay.c), a relay counting
// through the C ABI, run as a child process: it bumps broadcasts under
// `<segment>/` until Stop, then reports its own ledger. It gets SIGKILL if
// the test process dies; the destructor kills one still running. Use from
// one thread.
class CRelayProcess {
 public:
  CRelayProcess(const std::string& target, const std::string& segment, uint64_t seed,
                const std::string& session_id = "");
  ~CRelayProcess();
  CRelayProcess(const CRelayProcess&) = delete;
  CRelayProcess& operator=(const CRelayProcess&) = delete;

  struct Result {
    bool reported = false;         // it exited and printed its ledger
    bool acknowledged = false;     // its Shutdown saw everything acknowledged
    std::array<Counts, 2> ledger;  // per Role; the seven level-format counters (the others stay 0)
    std::string output;            // what it printed (stdout, then stderr)
  };
  // Tells it to stop, and waits (up to `timeout`) for its ledger.
  Result Stop(absl::Duration timeout = absl::Seconds(20));

  // SIGKILL (a relay that crashes: no Close, guards left open), and reaps it.
  void Kill();

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
};

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_C_RELAY_PROCESS_H_
