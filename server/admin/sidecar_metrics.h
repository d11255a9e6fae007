#ifndef MOQ_STATS_SERVER_ADMIN_SIDECAR_METRICS_H_
#define MOQ_STATS_SERVER_ADMIN_SIDECAR_METRICS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "origin_bridge/bridge/bridge_status.h"
#include "server/admin/prometheus_text.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// One sample of the sidecar's own metrics.
struct MetricSample {
  std::string name;
  std::string help;
  bool counter = false;  // else a gauge
  double value = 0;
  PrometheusText::Labels labels;
};

// What the metrics are read from, at one moment.
struct MetricInputs {
  const Stats* stats = nullptr;
  SessionRegistry::Counts sessions;
  size_t session_streams = 0;
  size_t watch_streams = 0;
  uint64_t session_open_timeouts = 0;
  // The admin listener's connections open now and refused over the cap.
  size_t admin_connections = 0;
  uint64_t admin_connections_refused = 0;
  absl::Duration uptime;
  // Checkpoints; `checkpoint_age` is infinite before the first one.
  bool checkpoints_enabled = false;
  absl::Duration checkpoint_age = absl::InfiniteDuration();
  uint64_t checkpoints_written = 0;
  uint64_t checkpoint_failures = 0;
  // The moq-lite bridge; nullopt when it does not run.
  std::optional<bridge::BridgeStatus> bridge;
};

// Every metric of the sidecar (moq_stats_*, the bridge's moq_stats_bridge_*),
// in a fixed order.
std::vector<MetricSample> CollectSidecarMetrics(const MetricInputs& inputs);

// The samples as Prometheus text.
std::string RenderPrometheus(const std::vector<MetricSample>& samples);

// The samples by name, with labels as `name{label="value"}`, for GetInfo.
std::map<std::string, double> MetricsByName(const std::vector<MetricSample>& samples);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_SIDECAR_METRICS_H_
