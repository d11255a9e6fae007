#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROMETHEUS_SERVER_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROMETHEUS_SERVER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/json/value.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/daemon_process.h"

namespace moq_stats {
namespace integration {

// Debian's prometheus and promtool (scripts/install-deps.sh installs them).
inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";
inline constexpr const char* kPromtoolBinary = "/usr/bin/promtool";

// Runs `argv` (argv[0] a path) to completion in `dir`, its stdin read from
// `stdin_text`. Killed after `timeout` (exit_code -1 then).
CommandResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text, const std::string& dir,
                         absl::Duration timeout = absl::Seconds(30));

// A private Prometheus on loopback: its own temporary storage, a 1 s scrape
// and evaluation interval, scraping `targets` ("127.0.0.1:PORT") as job
// "moq-stats-sidecar". Stopped (SIGTERM, then SIGKILL) when this goes, and
// killed if the test process dies.
class PrometheusServer {
 public:
  explicit PrometheusServer(std::vector<std::string> targets);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Starts it and waits (10 s at most) until /-/ready answers 200.
  ::testing::AssertionResult Start();

  // GET /api/v1/query?query=EXPR[&time=T]: the "data" member of a
  // successful answer; an error naming Prometheus' error otherwise.
  absl::StatusOr<json::Value> Query(const std::string& expr, std::optional<absl::Time> at = std::nullopt) const;

  // The value of the one sample EXPR gives (an instant vector of one
  // element, or a scalar); nullopt when it gives no sample, more than one
  // or the query fails (the reason in `*why`).
  std::optional<double> Value(const std::string& expr, std::optional<absl::Time> at = std::nullopt,
                              std::string* why = nullptr) const;

  // Polls Value(expr) until `accept` holds for it, `timeout` at most (every
  // poll waits 100 ms). The last value seen, and whether it was accepted.
  struct Waited {
    bool ok = false;
    std::optional<double> last;
    std::string why;
  };
  template <typename Accept>
  Waited WaitFor(const std::string& expr, Accept accept, absl::Duration timeout = absl::Seconds(20)) const {
    Waited w;
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      w.last = Value(expr, std::nullopt, &w.why);
      if (w.last.has_value() && accept(*w.last)) {
        w.ok = true;
        return w;
      }
      if (absl::Now() >= deadline) return w;
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  int port() const { return port_; }
  std::string Log() const;

 private:
  TempDir dir_;
  std::vector<std::string> targets_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// EXPR percent-encoded for a query string.
std::string UrlEncode(const std::string& text);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_PROMETHEUS_SERVER_H_
