// `moq-stats bump`: counts traffic on one broadcast through the library, as
// a relay would, and reports what it sent and whether the sidecar
// acknowledged it.

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/internal/command_runners.h"
#include "client/cli/json_out.h"
#include "client/cli/stop_signals.h"
#include "common/path.h"
#include "common/tier_label.h"
// stats.h (owned by the library) leaves BroadcastGuard::track's parameter
// unnamed-but-unused, which -Wextra -Werror refuses in this file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "moq_stats/stats.h"
#pragma GCC diagnostic pop

namespace moq_stats {
namespace cli {
namespace internal {
namespace {

const char* TierName(BumpTier tier) { return tier == BumpTier::kExternal ? "external" : "internal"; }
const char* RoleName(BumpRole role) { return role == BumpRole::kPublisher ? "publisher" : "subscriber"; }
moq_stats::Tier LibraryTier(BumpTier tier) {
  return tier == BumpTier::kExternal ? moq_stats::Tier::kExternal : moq_stats::Tier::kInternal;
}

template <moq_stats::Role R>
void BumpTrack(const moq_stats::TrackGuard<R>& track, const BumpOptions& bump) {
  if (bump.bytes > 0) track.bytes(bump.bytes);
  for (uint64_t i = 0; i < bump.frames; ++i) track.frame();
  for (uint64_t i = 0; i < bump.groups; ++i) track.group();
  for (uint64_t i = 0; i < bump.fetches; ++i) track.fetch();
  for (uint64_t i = 0; i < bump.datagrams; ++i) track.datagram();
}

}  // namespace

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

}  // namespace internal
}  // namespace cli
}  // namespace moq_stats
