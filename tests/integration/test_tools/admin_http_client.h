#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_ADMIN_HTTP_CLIENT_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_ADMIN_HTTP_CLIENT_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moq_stats {
namespace integration {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:<port><target> over a fresh connection
// ("Connection: close"), every socket operation bounded by `timeout`.
// UNAVAILABLE when it cannot connect or the answer is not HTTP/1.x.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target, absl::Duration timeout = absl::Seconds(5));

// The samples of a Prometheus text scrape by series, as written:
// "moq_stats_levels", "moq_stats_batches_rejected_total{reason=\"sequence\"}".
// Comment lines are skipped.
std::map<std::string, double> ParsePrometheus(const std::string& text);

// Scrapes /metrics and returns the samples; nullopt (with the reason in
// `*error`) when the scrape fails.
std::optional<std::map<std::string, double>> ScrapeMetrics(int port, std::string* error = nullptr);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_ADMIN_HTTP_CLIENT_H_
