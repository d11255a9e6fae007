#ifndef MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_RUN_PROCESS_H_
#define MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_RUN_PROCESS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moq_stats::deploy::test {

struct ProcessResult {
  // The exit status, or 128 + the signal number when a signal ended it.
  int exit_status = -1;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
};

// Runs the executable `argv[0]` with `argv` in `working_directory`, with
// exactly the environment `env` (nothing inherited), stdin from /dev/null,
// and collects its output. A process still running after `timeout` is
// killed (SIGKILL) and reported as DEADLINE_EXCEEDED; failing to start it
// is an error too. Blocks; not for concurrent use with other code that
// reaps children.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const std::vector<std::pair<std::string, std::string>>& env,
                                         const std::string& working_directory, absl::Duration timeout);

}  // namespace moq_stats::deploy::test

#endif  // MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_RUN_PROCESS_H_
