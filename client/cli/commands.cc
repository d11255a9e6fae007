#include "client/cli/commands.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/json_out.h"
#include "client/cli/sidecar_channel.h"
#include "client/cli/stop_signals.h"
#include "client/cli/terminal_text.h"
#include "client/cli/text_table.h"
#include "client/cli/top_command.h"
#include "common/path.h"
#include "common/tier_label.h"
#include "moq/stats/v1/stats.grpc.pb.h"
// stats.h (owned by the library) leaves BroadcastGuard::track's parameter
// unnamed-but-unused, which -Wextra -Werror refuses in this file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "moq_stats/stats.h"
#pragma GCC diagnostic pop

namespace moq_stats {
namespace cli {
namespace {

namespace pb = ::moq::stats::v1;

// The health services asked about: the server as a whole, and the stats
// service.
constexpr const char* kHealthServices[] = {"", "moq.stats.v1.StatsService"};
// Levels asked for per ListLevels page (the service's maximum).
constexpr uint32_t kLevelsPageSize = 1000;
// How often watch's signal thread looks whether the stream ended.
constexpr absl::Duration kSignalPoll = absl::Milliseconds(100);

CommandOutcome Done() { return CommandOutcome{}; }
CommandOutcome Fail(int exit_code, std::string message) { return CommandOutcome{exit_code, std::move(message)}; }
CommandOutcome CallFailed(absl::string_view what, const std::string& target, const grpc::Status& status) {
  return Fail(1, DescribeCallError(what, target, status));
}

void SetDeadline(const GlobalOptions& global, grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + global.timeout));
}

// A level key for people: the root's is empty, so it is shown quoted.
std::string KeyText(const std::string& key) { return key.empty() ? "\"\"" : key; }

// A level's creation time for people: UTC, to the millisecond, in RFC 3339;
// "-" from a sidecar that does not say.
std::string CreatedText(uint64_t created_unix_ms) {
  if (created_unix_ms == 0 || created_unix_ms > uint64_t{INT64_MAX}) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(static_cast<int64_t>(created_unix_ms)),
                          absl::UTCTimeZone());
}

const char* TierName(BumpTier tier) { return tier == BumpTier::kExternal ? "external" : "internal"; }
const char* RoleName(BumpRole role) { return role == BumpRole::kPublisher ? "publisher" : "subscriber"; }
moq_stats::Tier LibraryTier(BumpTier tier) {
  return tier == BumpTier::kExternal ? moq_stats::Tier::kExternal : moq_stats::Tier::kInternal;
}

// The four (tier, role) snapshots of a level, in proto order.
struct TierRoleSnapshot {
  const char* name;  // the Level field, as in the JSON output
  const char* tier;
  const char* role;
  const pb::Snapshot& snapshot;
};
std::vector<TierRoleSnapshot> SnapshotsOf(const pb::Level& level) {
  return {{"external_publisher", "external", "publisher", level.external_publisher()},
          {"external_subscriber", "external", "subscriber", level.external_subscriber()},
          {"internal_publisher", "internal", "publisher", level.internal_publisher()},
          {"internal_subscriber", "internal", "subscriber", level.internal_subscriber()}};
}

std::string SnapshotJson(const pb::Snapshot& s) {
  return JsonObject()
      .Add("broadcasts", s.broadcasts())
      .Add("broadcasts_closed", s.broadcasts_closed())
      .Add("subscriptions", s.subscriptions())
      .Add("subscriptions_closed", s.subscriptions_closed())
      .Add("bytes", s.bytes())
      .Add("frames", s.frames())
      .Add("groups", s.groups())
      .Add("announced", s.announced())
      .Add("announced_closed", s.announced_closed())
      .Add("announced_bytes", s.announced_bytes())
      .Add("fetches", s.fetches())
      .Add("datagrams", s.datagrams())
      .str();
}

std::string LevelJson(const pb::Level& level) {
  JsonObject o;
  o.AddString("key", level.key())
      .AddString("advertised_path", level.advertised_path())
      .AddBool("publishing", level.publishing())
      .Add("created_unix_ms", level.created_unix_ms());
  for (const TierRoleSnapshot& t : SnapshotsOf(level)) o.AddRaw(t.name, SnapshotJson(t.snapshot));
  return o.str();
}

// The seven counters as table cells.
std::vector<std::string> CounterCells(const pb::Snapshot& s) {
  return {absl::StrCat(s.broadcasts()),    absl::StrCat(s.broadcasts_closed()),
          absl::StrCat(s.subscriptions()), absl::StrCat(s.subscriptions_closed()),
          absl::StrCat(s.bytes()),         absl::StrCat(s.frames()),
          absl::StrCat(s.groups())};
}

std::vector<TextTable::Column> CounterColumns() {
  using A = TextTable::Align;
  return {{"BROADCASTS", A::kRight}, {"CLOSED", A::kRight}, {"SUBSCRIPTIONS", A::kRight}, {"CLOSED", A::kRight},
          {"BYTES", A::kRight},      {"FRAMES", A::kRight}, {"GROUPS", A::kRight}};
}

// ---------------------------------------------------------------------------

CommandOutcome RunLevels(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(global);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  auto stub = pb::StatsService::NewStub(*channel);
  std::vector<TextTable::Column> columns = {{"KEY"}, {"ADVERTISED PATH"}, {"PUBLISHING"}, {"CREATED"}, {"TIER"},
                                            {"ROLE"}};
  for (TextTable::Column& c : CounterColumns()) columns.push_back(std::move(c));
  TextTable table(std::move(columns));
  size_t count = 0;
  std::string token;
  do {
    pb::ListLevelsRequest request;
    request.set_prefix(inv.argument);
    request.set_page_size(kLevelsPageSize);
    request.set_page_token(token);
    pb::ListLevelsResponse response;
    grpc::ClientContext context;
    SetDeadline(global, &context);
    grpc::Status status = stub->ListLevels(&context, request, &response);
    if (!status.ok()) return CallFailed("ListLevels", global.target, status);
    for (const pb::Level& level : response.levels()) {
      ++count;
      if (global.json) {
        out << LevelJson(level) << "\n";
        continue;
      }
      for (const TierRoleSnapshot& t : SnapshotsOf(level)) {
        std::vector<std::string> row = {KeyText(level.key()),
                                        level.advertised_path(),
                                        level.publishing() ? "yes" : "no",
                                        CreatedText(level.created_unix_ms()),
                                        t.tier,
                                        t.role};
        for (std::string& cell : CounterCells(t.snapshot)) row.push_back(std::move(cell));
        table.AddRow(std::move(row));
      }
    }
    if (!response.next_page_token().empty() && response.next_page_token() == token) {
      return Fail(1, absl::StrCat("ListLevels failed: the sidecar at ", global.target, " returned the page token \"",
                                  token, "\" again"));
    }
    token = response.next_page_token();
  } while (!token.empty());
  if (!global.json) {
    if (count == 0) {
      out << (inv.argument.empty() ? std::string("no levels") : absl::StrCat("no levels under \"", inv.argument, "\""))
          << "\n";
    } else {
      out << table.Render();
    }
  }
  return Done();
}

CommandOutcome RunGet(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(global);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  auto stub = pb::StatsService::NewStub(*channel);
  pb::GetLevelRequest request;
  request.set_key(inv.argument);
  pb::GetLevelResponse response;
  grpc::ClientContext context;
  SetDeadline(global, &context);
  grpc::Status status = stub->GetLevel(&context, request, &response);
  if (!status.ok()) return CallFailed("GetLevel", global.target, status);
  const pb::Level& level = response.level();
  if (global.json) {
    out << LevelJson(level) << "\n";
    return Done();
  }
  out << "level       " << (level.key().empty() ? "\"\" (the root)" : TerminalSafe(level.key())) << "\n"
      << "advertised  " << TerminalSafe(level.advertised_path()) << "\n"
      << "publishing  " << (level.publishing() ? "yes" : "no") << "\n"
      << "created     " << CreatedText(level.created_unix_ms()) << "\n\n";
  std::vector<TextTable::Column> columns = {{"TIER"}, {"ROLE"}};
  for (TextTable::Column& c : CounterColumns()) columns.push_back(std::move(c));
  TextTable table(std::move(columns));
  for (const TierRoleSnapshot& t : SnapshotsOf(level)) {
    std::vector<std::string> row = {t.tier, t.role};
    for (std::string& cell : CounterCells(t.snapshot)) row.push_back(std::move(cell));
    table.AddRow(std::move(row));
  }
  out << table.Render();
  return Done();
}

// Waits until `channel` is connected, at most until `deadline`. OK when it
// is (`*connected` true), or when connecting failed (`*connected` false: a
// call then fails at once with the reason); DEADLINE_EXCEEDED when neither
// happened in time.
grpc::Status AwaitConnection(const std::shared_ptr<grpc::Channel>& channel, absl::Time deadline, absl::Duration timeout,
                             bool* connected) {
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) {
    if (!channel->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrCat("not connected within ", absl::FormatDuration(timeout)));
    }
    state = channel->GetState(/*try_to_connect=*/true);
  }
  *connected = state == GRPC_CHANNEL_READY;
  return grpc::Status::OK;
}

std::string WatchEventLine(const pb::WatchEvent& event, bool json) {
  if (event.has_announce()) {
    const pb::Announce& a = event.announce();
    if (json) return JsonObject().AddString(a.active() ? "announce" : "end", a.path()).str();
    return absl::StrCat(a.active() ? "# announce " : "# end ", TerminalSafe(a.path()));
  }
  if (event.has_frame()) {
    const pb::Frame& f = event.frame();
    if (!json) return TerminalSafe(f.payload());
    JsonObject o;
    o.AddString("path", f.path()).AddString("track", f.track()).Add("sequence", f.sequence());
    if (IsValidJson(f.payload())) {
      o.AddRaw("frame", f.payload());
    } else {
      o.AddString("frame_text", f.payload());
    }
    return o.str();
  }
  // An event of a newer contract: shown so that nothing passes unseen.
  if (json) return JsonObject().AddString("unknown_event", event.ShortDebugString()).str();
  return absl::StrCat("# unknown event ", TerminalSafe(event.ShortDebugString()));
}

CommandOutcome RunWatch(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  StopSignals stop;  // before the channel starts gRPC's threads
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made = NewSidecarChannel(global);
  if (!made.ok()) return Fail(2, std::string(made.status().message()));
  std::shared_ptr<grpc::Channel> channel = *std::move(made);
  bool connected = false;
  if (grpc::Status s = AwaitConnection(channel, absl::Now() + global.timeout, global.timeout, &connected); !s.ok()) {
    return CallFailed("Watch", global.target, s);
  }
  auto stub = pb::StatsService::NewStub(channel);
  pb::WatchRequest request;
  request.set_prefix(inv.argument);
  grpc::ClientContext context;  // no deadline: runs until stopped
  std::unique_ptr<grpc::ClientReader<pb::WatchEvent>> reader = stub->Watch(&context, request);

  std::atomic<bool> ended{false};        // the stream ended; the stopper may go
  std::atomic<bool> interrupted{false};  // a signal cancelled the stream
  std::thread stopper([&] {
    while (!ended.load()) {
      if (stop.Wait(kSignalPoll)) {
        interrupted.store(true);
        context.TryCancel();
        return;
      }
    }
  });
  size_t events = 0;
  pb::WatchEvent event;
  while (reader->Read(&event)) {
    ++events;
    out << WatchEventLine(event, global.json) << std::endl;  // flushed: a reader sees each line at once
  }
  ended.store(true);
  stopper.join();
  grpc::Status status = reader->Finish();
  if (interrupted.load() || status.ok()) return Done();
  if (IsUnreachable(status) && (connected || events > 0)) {
    // The sidecar was reached: the stream ended (a shutdown, a broken
    // connection) rather than never started.
    return Fail(1, absl::StrCat("the watch stream from the sidecar at ", global.target,
                                " ended: ", StatusCodeName(status.error_code()), ": ", status.error_message()));
  }
  return CallFailed("Watch", global.target, status);
}

template <moq_stats::Role R>
void BumpTrack(const moq_stats::TrackGuard<R>& track, const BumpOptions& bump) {
  if (bump.bytes > 0) track.bytes(bump.bytes);
  for (uint64_t i = 0; i < bump.frames; ++i) track.frame();
  for (uint64_t i = 0; i < bump.groups; ++i) track.group();
  for (uint64_t i = 0; i < bump.fetches; ++i) track.fetch();
  for (uint64_t i = 0; i < bump.datagrams; ++i) track.datagram();
}

CommandOutcome RunBump(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  const BumpOptions& bump = inv.bump;
  StopSignals stop;  // before the library starts its threads
  moq_stats::Options options;
  options.relay_name = "moq-stats bump";
  options.auth_token_file = global.auth_token_file;
  options.tls_ca_file = global.tls_ca;
  options.tls_cert_file = global.tls_cert;
  options.tls_key_file = global.tls_key;
  moq_stats::Stats stats = moq_stats::Stats::Connect(global.target, options);
  if (!bump.tier_label.empty()) {
    if (absl::Status s = moq_stats::NormalizeTierLabel(bump.tier_label).status(); !s.ok()) {
      stats.Shutdown(std::chrono::milliseconds(0));
      return Fail(2, absl::StrCat("bump: --tier \"", bump.tier_label, "\": ", s.message()));
    }
  }
  const moq_stats::StatsHandle tier =
      bump.tier_label.empty() ? stats.tier(LibraryTier(bump.tier)) : stats.tier(bump.tier_label);
  moq_stats::BroadcastStats broadcast = tier.broadcast(bump.path);
  // Held for the whole run, opened first and closed last.
  moq_stats::SessionGuard session = bump.session ? tier.session(*bump.session) : moq_stats::SessionGuard();
  if (bump.session && session.empty()) {
    stats.Shutdown(std::chrono::milliseconds(0));
    return Fail(2, absl::StrCat("bump: the library counts no session of auth root \"", *bump.session,
                                "\" (not a path the sidecar accepts)"));
  }
  if (broadcast.empty()) {
    stats.Shutdown(std::chrono::milliseconds(0));
    return Fail(2,
                absl::StrCat("bump: the library counts nothing on path \"", bump.path, "\" (under its stats prefix \"",
                             options.prefix, "\", or not a path the sidecar accepts)"));
  }

  // Opens the guards, bumps, holds, and closes them (track first) on return.
  bool interrupted = false;
  const absl::Time opened = absl::Now();
  // The announce guard, when there is one, is held until the run ends.
  auto run = [&](auto broadcast_guard, [[maybe_unused]] auto announce_guard) {
    auto track = broadcast_guard.track("moq-stats");
    BumpTrack(track, bump);
    if (bump.hold > absl::ZeroDuration()) interrupted = stop.Wait(bump.hold);
  };
  if (bump.role == BumpRole::kPublisher) {
    run(broadcast.publisher(), bump.announce ? broadcast.publisher_announce() : moq_stats::PublisherAnnounce());
  } else {
    run(broadcast.subscriber(), bump.announce ? broadcast.subscriber_announce() : moq_stats::SubscriberAnnounce());
  }
  session = moq_stats::SessionGuard();
  const absl::Duration held = absl::Now() - opened;
  // An announce guard adds the normalised path's length at open and at close.
  const uint64_t broadcast_path_bytes = moq_stats::Path(bump.path).str().size();

  const bool acknowledged = stats.Shutdown(std::chrono::milliseconds(absl::ToInt64Milliseconds(global.timeout)));
  const moq_stats::ClientCounters counters = stats.counters();

  if (global.json) {
    const std::string sent = JsonObject()
                                 .Add("broadcasts", 1)
                                 .Add("broadcasts_closed", 1)
                                 .Add("subscriptions", 1)
                                 .Add("subscriptions_closed", 1)
                                 .Add("bytes", bump.bytes)
                                 .Add("frames", bump.frames)
                                 .Add("groups", bump.groups)
                                 .Add("announced", bump.announce ? 1 : 0)
                                 .Add("announced_closed", bump.announce ? 1 : 0)
                                 .Add("announced_bytes", bump.announce ? 2 * broadcast_path_bytes : 0)
                                 .Add("fetches", bump.fetches)
                                 .Add("datagrams", bump.datagrams)
                                 .str();
    std::string sent_with_sessions = sent;
    if (bump.session) {
      sent_with_sessions.pop_back();  // the closing brace
      absl::StrAppend(&sent_with_sessions, ",\"sessions\":1,\"sessions_closed\":1}");
    }
    JsonObject line;
    line.AddString("target", global.target).AddString("path", bump.path);
    if (bump.session) line.AddString("session", *bump.session);
    out << line.AddString("tier", bump.tier_label.empty() ? std::string(TierName(bump.tier)) : bump.tier_label)
               .AddString("role", RoleName(bump.role))
               .AddRaw("sent", sent_with_sessions)
               .AddDouble("held_seconds", absl::ToDoubleSeconds(held))
               .AddBool("interrupted", interrupted)
               .AddBool("acknowledged", acknowledged)
               .Add("batches_sent", counters.batches_sent)
               .Add("batches_acked", counters.batches_acked)
               .str()
        << "\n";
  } else {
    out << "bump on " << global.target << ": path \"" << bump.path << "\", tier "
        << (bump.tier_label.empty() ? std::string(TierName(bump.tier)) : bump.tier_label) << ", role "
        << RoleName(bump.role) << "\n"
        << (bump.session ? absl::StrCat("session: auth root \"", *bump.session, "\", 1 (closed 1)\n") : "")
        << "sent: broadcasts 1 (closed 1), subscriptions 1 (closed 1), bytes " << bump.bytes << ", frames "
        << bump.frames << ", groups " << bump.groups << ", fetches " << bump.fetches << ", datagrams " << bump.datagrams
        << (bump.announce ? ", announced 1 (closed 1)" : "") << "\n"
        << "held " << absl::FormatDuration(absl::Trunc(held, absl::Milliseconds(1)))
        << (interrupted ? " (ended early by a signal)" : "") << "\n"
        << "acknowledged: " << (acknowledged ? "yes" : "no") << " (batches sent " << counters.batches_sent
        << ", acknowledged " << counters.batches_acked << ")\n";
  }
  out.flush();
  if (acknowledged) return Done();
  const std::string why = counters.last_error.empty() ? std::string("no answer") : counters.last_error;
  if (counters.batches_acked == 0) {
    return Fail(1, absl::StrCat("cannot reach the sidecar at ", global.target, ": nothing acknowledged within ",
                                absl::FormatDuration(global.timeout), " (", why, ")"));
  }
  return Fail(1, absl::StrCat("the sidecar at ", global.target, " did not acknowledge everything within ",
                              absl::FormatDuration(global.timeout), " (", why, ")"));
}

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

}  // namespace

CommandOutcome RunCommand(const Invocation& invocation, std::ostream& out) {
  switch (invocation.command) {
    case Command::kLevels:
      return RunLevels(invocation, out);
    case Command::kGet:
      return RunGet(invocation, out);
    case Command::kWatch:
      return RunWatch(invocation, out);
    case Command::kBump:
      return RunBump(invocation, out);
    case Command::kHealth:
      return RunHealth(invocation, out);
    case Command::kInfo:
      return RunInfo(invocation, out);
    case Command::kTop:
      return RunTop(invocation, out);
  }
  return Fail(2, "unknown command");
}

}  // namespace cli
}  // namespace moq_stats
