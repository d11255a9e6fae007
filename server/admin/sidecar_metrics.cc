#include "server/admin/sidecar_metrics.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/sessions/session.h"

namespace moq_stats::server {

std::vector<MetricSample> CollectSidecarMetrics(const MetricInputs& in) {
  std::vector<MetricSample> out;
  auto gauge = [&out](const char* name, const char* help, double value, PrometheusText::Labels labels = {}) {
    out.push_back(MetricSample{name, help, false, value, std::move(labels)});
  };
  auto counter = [&out](const char* name, const char* help, double value, PrometheusText::Labels labels = {}) {
    out.push_back(MetricSample{name, help, true, value, std::move(labels)});
  };
  const SessionRegistry::Counts& s = in.sessions;
  gauge("moq_stats_uptime_seconds", "Seconds since the sidecar started.", absl::ToDoubleSeconds(in.uptime));
  gauge("moq_stats_sessions_open", "Relay sessions carried by a stream now.", double(s.attached));
  gauge("moq_stats_sessions_known", "Relay sessions known now: carried by a stream or in their grace period.",
        double(s.known));
  counter("moq_stats_sessions_total", "Relay sessions created.", double(s.created));
  counter("moq_stats_sessions_resumed_total", "Streams that resumed a known session.", double(s.resumed));
  counter("moq_stats_sessions_taken_over_total", "Sessions taken over by a newer stream.", double(s.taken_over));
  counter("moq_stats_sessions_expired_total",
          "Sessions not resumed within the grace period, whose open guards were closed.", double(s.expired));
  counter("moq_stats_sessions_evicted_total",
          "Sessions evicted to make room for a new one at max_sessions; those that held guards had them closed.",
          double(s.evicted));
  counter("moq_stats_sessions_closed_total", "Sessions closed by their relay.", double(s.closed));
  gauge("moq_stats_session_streams", "Session streams open now.", double(in.session_streams));
  gauge("moq_stats_watch_streams", "Watch streams open now.", double(in.watch_streams));
  counter("moq_stats_session_open_timeouts_total", "Session streams ended for sending no open within the open timeout.",
          double(in.session_open_timeouts));
  gauge("moq_stats_admin_connections", "Admin HTTP connections open now.", double(in.admin_connections));
  counter("moq_stats_admin_connections_refused_total",
          "Admin HTTP connections closed at once because --admin-max-connections were open.",
          double(in.admin_connections_refused));
  counter("moq_stats_batches_applied_total", "Batches applied.", double(s.batches_applied));
  counter("moq_stats_deltas_applied_total", "Handle-deltas applied.", double(s.deltas_applied));
  for (int i = 1; i < kRejectReasonCount; ++i) {
    counter("moq_stats_batches_rejected_total", "Batches refused, by reason; nothing of them was applied.",
            double(s.rejected[i]), {{"reason", std::string(RejectReasonName(static_cast<RejectReason>(i)))}});
  }
  counter("moq_stats_resync_parts_total",
          "Parts of resyncs sent in several batches, held until their last part arrived.", double(s.resync_parts_held));
  gauge("moq_stats_resync_parts_held_bytes", "Bytes of resync parts held now, waiting for their last part.",
        double(s.pending_resync_bytes));
  gauge("moq_stats_sessions_remembered",
        "Sessions that ended by grace expiry or eviction, remembered to tell their relay what was applied.",
        double(s.remembered));
  const Stats& stats = *in.stats;
  gauge("moq_stats_levels", "Levels held by the aggregator.", double(stats.level_count()));
  counter("moq_stats_levels_freed_total", "Levels freed after their retention time.", double(stats.levels_freed()));
  gauge("moq_stats_publishers_running", "Level publishers running.", double(stats.running_publishers()));
  counter("moq_stats_publishers_started_total", "Level publishers started.", double(stats.publishers_started()));
  counter("moq_stats_frames_written_total", "Frames written by the level publishers.", double(stats.frames_written()));
  counter("moq_stats_level_ticks_total", "Level ticks run.", double(stats.level_ticks()));
  counter("moq_stats_tick_seconds_total", "Time spent in level ticks; divide by the ticks for the mean.",
          absl::ToDoubleSeconds(stats.tick_time()));
  counter("moq_stats_rejected_paths_total", "Broadcast paths refused as invalid.", double(stats.rejected_paths()));
  counter("moq_stats_publishes_refused_total", "Broadcasts the origin refused.", double(stats.publishes_refused()));
  if (in.checkpoints_enabled) {
    gauge("moq_stats_checkpoint_age_seconds", "Seconds since the last checkpoint was written (+Inf before the first).",
          in.checkpoint_age == absl::InfiniteDuration() ? std::numeric_limits<double>::infinity()
                                                        : absl::ToDoubleSeconds(in.checkpoint_age));
    counter("moq_stats_checkpoints_written_total", "Checkpoints written.", double(in.checkpoints_written));
    counter("moq_stats_checkpoint_failures_total", "Checkpoints that could not be written.",
            double(in.checkpoint_failures));
  }
  if (in.bridge.has_value()) {
    const bridge::BridgeStatus& b = *in.bridge;
    if (b.dial.enabled) {
      gauge("moq_stats_bridge_connected", "1 while the session to the --origin-url relay is up, by moq-lite version.",
            b.dial.connected ? 1 : 0, {{"version", b.dial.version}});
      counter("moq_stats_bridge_reconnects_total", "Redials of the relay after a failed dial or a session's end.",
              double(b.dial.reconnects));
    }
    if (b.serve.enabled) {
      gauge("moq_stats_bridge_serve_sessions", "MoQ client sessions served on --moq-listen now.",
            double(b.serve.sessions));
      counter("moq_stats_bridge_serve_sessions_total", "MoQ client sessions accepted on --moq-listen.",
              double(b.serve.sessions_total));
      counter("moq_stats_bridge_serve_sessions_refused_total", "MoQ clients refused over the session limit.",
              double(b.serve.sessions_refused));
      counter("moq_stats_bridge_serve_sessions_idle_closed_total",
              "MoQ client sessions closed after --moq-idle-timeout without a subscription.",
              double(b.serve.sessions_idle_closed));
    }
    const bridge::SessionCounters& t = b.totals;
    gauge("moq_stats_bridge_announced_broadcasts", "Broadcasts announced now, summed over the bridge's sessions.",
          double(t.announced_broadcasts));
    gauge("moq_stats_bridge_subscriptions_active", "Subscriptions served now, over the bridge's sessions.",
          double(t.subscriptions_active));
    counter("moq_stats_bridge_subscriptions_served_total", "Subscriptions accepted by the bridge.",
            double(t.subscriptions_served));
    counter("moq_stats_bridge_groups_sent_total", "Groups sent by the bridge.", double(t.groups_sent));
    counter("moq_stats_bridge_group_bytes_sent_total", "Frame payload bytes of the groups sent by the bridge.",
            double(t.group_bytes_sent));
    counter("moq_stats_bridge_groups_skipped_total",
            "Groups replaced by a newer one of their track while waiting for the peer's credit.",
            double(t.groups_skipped));
    counter("moq_stats_bridge_wire_bytes_sent_total", "QMux bytes the bridge handed to its transports.",
            double(t.wire_bytes_sent));
    counter("moq_stats_bridge_wire_bytes_received_total", "QMux bytes the bridge received.",
            double(t.wire_bytes_received));
  }
  return out;
}

std::string RenderPrometheus(const std::vector<MetricSample>& samples) {
  PrometheusText text;
  for (const MetricSample& s : samples) {
    if (s.counter) {
      text.Counter(s.name, s.help, s.value, s.labels);
    } else {
      text.Gauge(s.name, s.help, s.value, s.labels);
    }
  }
  return text.Take();
}

std::map<std::string, double> MetricsByName(const std::vector<MetricSample>& samples) {
  std::map<std::string, double> out;
  for (const MetricSample& s : samples) {
    std::string key = s.name;
    if (!s.labels.empty()) {
      key += "{";
      for (size_t i = 0; i < s.labels.size(); ++i) {
        absl::StrAppend(&key, i ? "," : "", s.labels[i].first, "=\"", s.labels[i].second, "\"");
      }
      key += "}";
    }
    out[key] = s.value;
  }
  return out;
}

}  // namespace moq_stats::server
