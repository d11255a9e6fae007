#ifndef MOQ_STATS_SERVER_ADMIN_PROMETHEUS_TEXT_H_
#define MOQ_STATS_SERVER_ADMIN_PROMETHEUS_TEXT_H_

#include <string>
#include <utility>
#include <vector>

namespace moq_stats::server {

// Builds a scrape in the Prometheus text exposition format (version 0.0.4):
// for each metric family one `# HELP` and one `# TYPE` line, then its
// samples. Label values are escaped (`\\`, `\"`, `\n`); numbers are written
// so that integers up to 2^53 come out exactly, and +Inf/-Inf/NaN as
// Prometheus spells them.
//
//   PrometheusText text;
//   text.Gauge("moq_stats_levels", "Levels held.", 12);
//   text.Counter("moq_stats_batches_rejected_total", "Batches refused.", 3, {{"reason", "sequence"}});
//   std::string body = text.Take();
//
// Not thread-safe: build one per scrape.
class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Adds a sample of a counter (TYPE counter) or gauge (TYPE gauge). Samples
  // of one family must be added one after the other; HELP and TYPE are
  // written before the family's first sample.
  void Counter(const std::string& name, const std::string& help, double value, const Labels& labels = {});
  void Gauge(const std::string& name, const std::string& help, double value, const Labels& labels = {});

  // The text so far; leaves this builder empty.
  std::string Take();

  // The content type to serve it with.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void Sample(const std::string& name, const std::string& help, const char* type, double value, const Labels& labels);

  std::string out_;
  std::string family_;  // the family whose samples are being written
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_PROMETHEUS_TEXT_H_
