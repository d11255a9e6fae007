// The commands about the sidecar itself: `health` (the gRPC health of the
// server and of the stats service) and `info` (its version, uptime,
// settings, counters and bridge).

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/internal/command_runners.h"
#include "client/cli/json_out.h"
#include "client/cli/sidecar_channel.h"
#include "client/cli/terminal_text.h"
#include "client/cli/text_table.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace cli {
namespace internal {
namespace {

namespace pb = ::moq::stats::v1;

// The health services asked about: the server as a whole, and the stats
// service.
constexpr const char* kHealthServices[] = {"", "moq.stats.v1.StatsService"};

// The bridge part of GetInfo as JSON.
std::string BridgeJson(const pb::BridgeInfo& b) {
  const pb::BridgeInfo::Dial& d = b.dial();
  const pb::BridgeInfo::Serve& s = b.serve();
  return JsonObject()
      .AddRaw("dial", JsonObject()
                          .AddBool("enabled", d.enabled())
                          .AddString("url", d.url())
                          .AddBool("connected", d.connected())
                          .AddString("version", d.version())
                          .AddString("subprotocol", d.subprotocol())
                          .Add("connected_since_unix_ms", static_cast<uint64_t>(d.connected_since_unix_ms()))
                          .Add("reconnects", d.reconnects())
                          .AddString("last_error", d.last_error())
                          .str())
      .AddRaw("serve", JsonObject()
                           .AddBool("enabled", s.enabled())
                           .AddString("listen", s.listen())
                           .Add("sessions", s.sessions())
                           .Add("sessions_total", s.sessions_total())
                           .Add("sessions_refused", s.sessions_refused())
                           .Add("sessions_idle_closed", s.sessions_idle_closed())
                           .AddString("last_error", s.last_error())
                           .str())
      .Add("announced_broadcasts", b.announced_broadcasts())
      .Add("subscriptions_active", b.subscriptions_active())
      .Add("subscriptions_served", b.subscriptions_served())
      .Add("groups_sent", b.groups_sent())
      .Add("group_bytes_sent", b.group_bytes_sent())
      .Add("groups_skipped", b.groups_skipped())
      .Add("wire_bytes_sent", b.wire_bytes_sent())
      .Add("wire_bytes_received", b.wire_bytes_received())
      .str();
}

// The bridge part of GetInfo as a table.
std::string BridgeTable(const pb::BridgeInfo& b) {
  const pb::BridgeInfo::Dial& d = b.dial();
  const pb::BridgeInfo::Serve& s = b.serve();
  TextTable table({{"BRIDGE"}, {"VALUE"}});
  if (d.enabled()) {
    table.AddRow({"dial url", d.url()});
    std::string state = d.connected() ? absl::StrCat("connected, ", d.version()) : "not connected";
    if (d.connected() && !d.subprotocol().empty()) absl::StrAppend(&state, " (", d.subprotocol(), ")");
    if (d.connected() && d.connected_since_unix_ms() > 0) {
      absl::StrAppend(
          &state, " since ",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMillis(d.connected_since_unix_ms()), absl::UTCTimeZone()));
    }
    table.AddRow({"dial state", state});
    table.AddRow({"dial reconnects", absl::StrCat(d.reconnects())});
    if (!d.last_error().empty()) table.AddRow({"dial last error", d.last_error()});
  } else {
    table.AddRow({"dial", "off"});
  }
  if (s.enabled()) {
    table.AddRow({"serve listen", absl::StrCat("ws://", s.listen(), "/")});
    table.AddRow(
        {"serve sessions", absl::StrCat(s.sessions(), " now, ", s.sessions_total(), " total, ", s.sessions_refused(),
                                        " refused, ", s.sessions_idle_closed(), " closed idle")});
  } else {
    table.AddRow({"serve", s.last_error().empty() ? "off" : absl::StrCat("off (", s.last_error(), ")")});
  }
  table.AddRow({"announced broadcasts", absl::StrCat(b.announced_broadcasts())});
  table.AddRow(
      {"subscriptions", absl::StrCat(b.subscriptions_active(), " active, ", b.subscriptions_served(), " served")});
  table.AddRow({"groups sent", absl::StrCat(b.groups_sent(), " (", b.group_bytes_sent(), " payload bytes), ",
                                            b.groups_skipped(), " skipped for newer")});
  table.AddRow({"wire bytes", absl::StrCat(b.wire_bytes_sent(), " sent, ", b.wire_bytes_received(), " received")});
  return table.Render();
}

}  // namespace

CommandOutcome RunHealth(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made = NewSidecarChannel(global);
  if (!made.ok()) return Fail(2, std::string(made.status().message()));
  std::shared_ptr<grpc::Channel> channel = *std::move(made);
  bool serving = true;
  std::vector<std::pair<std::string, std::string>> answers;  // (service, status name)
  for (const char* service : kHealthServices) {
    int status = 0;
    grpc::Status s = CheckHealth(channel, service, absl::Now() + global.timeout, &status);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      // The standard service's answer for a service it does not know.
      status = static_cast<int>(ServingStatus::kServiceUnknown);
    } else if (!s.ok()) {
      return CallFailed("grpc.health.v1.Health/Check", global.target, s);
    }
    serving = serving && status == static_cast<int>(ServingStatus::kServing);
    answers.emplace_back(service, ServingStatusName(status));
  }
  if (global.json) {
    JsonObject services;
    for (const auto& [service, status] : answers) services.AddString(service, status);
    out << JsonObject().AddRaw("services", services.str()).AddBool("serving", serving).str() << "\n";
  } else {
    TextTable table({{"SERVICE"}, {"STATUS"}});
    for (const auto& [service, status] : answers) {
      table.AddRow({service.empty() ? "\"\" (the server)" : service, status});
    }
    out << table.Render();
  }
  if (serving) return Done();
  return Fail(1, absl::StrCat("the sidecar at ", global.target, " is not serving"));
}

CommandOutcome RunInfo(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(global);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  auto stub = pb::StatsService::NewStub(*channel);
  pb::GetInfoResponse info;
  grpc::ClientContext context;
  SetDeadline(global, &context);
  grpc::Status status = stub->GetInfo(&context, pb::GetInfoRequest(), &info);
  if (!status.ok()) return CallFailed("GetInfo", global.target, status);

  // Protobuf maps have no order; sorted for a stable output.
  std::vector<std::pair<std::string, std::string>> config(info.config().begin(), info.config().end());
  std::vector<std::pair<std::string, double>> counters(info.counters().begin(), info.counters().end());
  std::sort(config.begin(), config.end());
  std::sort(counters.begin(), counters.end());

  if (global.json) {
    JsonObject config_json, counters_json;
    for (const auto& [name, value] : config) config_json.AddString(name, value);
    for (const auto& [name, value] : counters) counters_json.AddDouble(name, value);
    out << JsonObject()
               .AddString("version", info.version())
               .AddDouble("uptime_seconds", info.uptime_seconds())
               .AddRaw("config", config_json.str())
               .AddRaw("counters", counters_json.str())
               .AddRaw("bridge", info.has_bridge() ? BridgeJson(info.bridge()) : "null")
               .str()
        << "\n";
    return Done();
  }
  out << "version  " << TerminalSafe(info.version()) << "\n"
      << "uptime   " << absl::FormatDuration(absl::Trunc(absl::Seconds(info.uptime_seconds()), absl::Milliseconds(1)))
      << "\n\n";
  TextTable config_table({{"SETTING"}, {"VALUE"}});
  for (const auto& [name, value] : config) config_table.AddRow({name, value});
  TextTable counters_table({{"COUNTER"}, {"VALUE", TextTable::Align::kRight}});
  for (const auto& [name, value] : counters) counters_table.AddRow({name, JsonNumber(value)});
  out << config_table.Render() << "\n" << counters_table.Render();
  if (info.has_bridge()) out << "\n" << BridgeTable(info.bridge());
  return Done();
}

}  // namespace internal
}  // namespace cli
}  // namespace moq_stats
