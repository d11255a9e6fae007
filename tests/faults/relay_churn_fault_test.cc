// Faults: relay churn against the real daemon. Many short sessions come and
// go while a steady relay keeps bumping: sessions that close (Shutdown),
// sessions whose library is dropped without Shutdown, and C ABI relays
// killed with SIGKILL (no Close, guards left open: grace expiry). What
// docs/semantics.md promises:
//   - a closed session's counts are exact (section 1), and the steady relay's
//     sums are exact whatever the others do;
//   - the daemon restarted gracefully now and then: the relays reconnect
//     and resume;
//   - a session that ends without Close is closed by the sidecar after its
//     grace period: open and closed meet on every level (section 2), and
//     nothing is counted above what the relay bumped;
//   - at every read, closed never above open; sessions and memory bounded.
// FAULT_SEED and SOAK_SECONDS as in every fault test.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/common/test_tools/counts_testing.h"
#include "tests/faults/test_tools/c_relay_process.h"
#include "tests/faults/test_tools/fault_env.h"
#include "tests/faults/test_tools/fault_relays.h"
#include "tests/faults/test_tools/invariant_sampler.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

namespace pb = ::moq::stats::v1;
using integration::DaemonProcess;
using integration::test::FastOptions;
using integration::test::RootAllClosed;
using integration::test::ShowCounters;
using integration::test::WaitUntil;
using namespace std::chrono_literals;

// Short sessions hold one broadcast each; the daemon stays far below this.
constexpr uint64_t kRssCeilingKib = 128 * 1024;
// C ABI relays alive at once before the oldest is killed.
constexpr size_t kMaxLiveCRelays = 3;

// One short session through the C++ library: a publisher guard and track on
// `path` (external) and a subscriber track, `rounds` rounds of bumps; the
// guards closed at the end. Adds what it bumped to `ledger` (per role).
// Shutdown when `close`, else the library is dropped without it. Returns
// whether Shutdown saw everything acknowledged (true when not closed).
bool ShortSession(const std::string& target, const std::string& path, int rounds, bool close, Rng& rng,
                  Counts ledger[2]) {
  Stats stats = Stats::Connect(target, FastOptions());
  {
    BroadcastStats bs = stats.tier(Tier::kExternal).broadcast(path);
    PublisherStats publisher = bs.publisher();
    PublisherTrack track = publisher.track("video");
    SubscriberTrack ingest = bs.subscriber_track("ingest");
    ledger[0].broadcasts += 1;
    ledger[0].subscriptions += 1;
    ledger[1].subscriptions += 1;
    for (int r = 0; r < rounds; ++r) {
      const uint64_t n = 1 + rng() % 1400;
      track.bytes(n);
      track.frame();
      ledger[0].bytes += n;
      ledger[0].frames += 1;
      if (r % 10 == 0) {
        track.group();
        ledger[0].groups += 1;
      }
      ingest.bytes(3);
      ledger[1].bytes += 3;
      if (r % 16 == 0) absl::SleepFor(absl::Milliseconds(1));
    }
    // Let the session reach the sidecar before it goes (a relay that lives a
    // few flush intervals).
    WaitUntil([&] { return stats.counters().batches_acked >= 1; }, absl::Seconds(5));
  }
  ledger[0].broadcasts_closed += 1;
  ledger[0].subscriptions_closed += 1;
  ledger[1].subscriptions_closed += 1;
  if (!close) return true;  // dropped: the sidecar closes what it holds after the grace period
  const bool acked = stats.Shutdown(5000ms);
  if (!acked) ADD_FAILURE() << "Shutdown of " << path << ": " << ShowCounters(stats.counters());
  return acked;
}

Readings OneLevel(const std::string& key, const Counts ledger[2]) {
  Readings out;
  for (pb::Tier tier : integration::kAllTiers) {
    for (pb::Role role : integration::kAllRoles) out[key][{tier, role}] = Counts{};
  }
  out[key][{pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER}] = ledger[0];
  out[key][{pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER}] = ledger[1];
  return out;
}

// Every (tier, role) of the level `key` has as many closed as open.
bool AllClosedAt(pb::StatsService::Stub& stub, const std::string& key) {
  Readings r;
  std::string why;
  if (!ReadLevels(stub, {key}, &r, &why)) return false;
  for (const auto& [tr, c] : r[key]) {
    if (c.broadcasts != c.broadcasts_closed || c.subscriptions != c.subscriptions_closed) return false;
  }
  return true;
}

TEST(FaultsRelayChurn, ShortSessionsDropsAndKillsLeaveExactCountsAndNothingOpen) {
  ScenarioRow row{"relay_churn"};
  Rng rng(ScenarioSeed(row.scenario));
  DaemonProcess daemon({"--stats-levels=1", "--grace=300ms"});
  ASSERT_TRUE(daemon.Start());
  InvariantSampler sampler(daemon.target());
  sampler.set_pid(daemon.pid());
  Stats steady = Stats::Connect(daemon.target(), FastOptions());
  Workers workers;
  workers.push_back(std::make_unique<Worker>(steady, Tier::kInternal, "steady", 2));
  workers.front()->Start(0, /*throttle=*/true);

  Counts closed_ledger[2];
  Counts dropped_ledger[2];
  std::vector<std::unique_ptr<CRelayProcess>> c_relays;
  uint64_t c_relays_started = 0;
  const absl::Time end = absl::Now() + ScenarioBudget(absl::Seconds(8));
  const int iterations = ScenarioIterations(40);
  for (int i = 0; i < iterations && absl::Now() < end; ++i) {
    SCOPED_TRACE(absl::StrCat("iteration ", i));
    const int rounds = 20 + static_cast<int>(rng() % 200);
    switch (rng() % 3) {
      case 0:
        ShortSession(daemon.target(), absl::StrCat("closed/s", i), rounds, /*close=*/true, rng, closed_ledger);
        break;
      case 1:
        ShortSession(daemon.target(), absl::StrCat("dropped/s", i), rounds, /*close=*/false, rng, dropped_ledger);
        ++row.kills;
        break;
      default:
        c_relays.push_back(std::make_unique<CRelayProcess>(daemon.target(), absl::StrCat("killed/s", i), rng()));
        ++c_relays_started;
        break;
    }
    // The oldest C ABI relay is killed after a few iterations of life.
    if (c_relays.size() > kMaxLiveCRelays || (!c_relays.empty() && rng() % 4 == 0)) {
      c_relays.front()->Kill();
      c_relays.erase(c_relays.begin());
      ++row.kills;
    }
    // Now and then the daemon restarts gracefully: the steady relay and the
    // live C ABI relays reconnect and resume, sessions in their grace period
    // are checkpointed and expire after the restart.
    if (i % 10 == 9) {
      ASSERT_EQ(daemon.Terminate(), 0);
      ++row.kills;
      ASSERT_TRUE(daemon.Restart());
      sampler.set_pid(daemon.pid());
    }
    ++row.iterations;
  }
  ASSERT_TRUE(WaitUntil([&] { return steady.counters().connected; })) << ShowCounters(steady.counters());
  for (auto& relay : c_relays) {
    relay->Kill();
    ++row.kills;
  }
  c_relays.clear();
  workers.front()->Stop();
  ASSERT_TRUE(steady.Shutdown(10000ms)) << ShowCounters(steady.counters());

  auto stub = daemon.NewStub();
  // Every session that ended without Close expires (grace 300 ms), and
  // closes what it held.
  for (const std::string key : {"dropped", "killed", ""}) {
    EXPECT_TRUE(WaitUntil([&] { return AllClosedAt(*stub, key); }, absl::Seconds(10)))
        << "level \"" << key << "\" still holds open guards";
  }
  Readings got;
  std::string why;
  ASSERT_TRUE(ReadLevels(*stub, {"closed", "dropped", "steady"}, &got, &why)) << why;
  Readings exact = OneLevel("closed", closed_ledger);
  EXPECT_TRUE(SameReadings(Readings{{"closed", got["closed"]}}, exact));
  // The steady relay's sums are exact, and so are its open guards. Its
  // session may expire while a restart keeps it away past the 300 ms grace
  // period: the expiry closes its guards and its resync opens them again,
  // and guards opened and closed between the two are not counted (the
  // resync carries the guards open, not their history: docs/semantics.md,
  // "The relay's side of the contract"), so its opens and closes may differ
  // from its ledger, by the same on both. (Were an acknowledgement lost at
  // that restart, its sums would count twice: issue 13 item 8.)
  const Readings steady_ledger = LedgerOf(workers, {"steady"});
  EXPECT_TRUE(SameSums(Readings{{"steady", got["steady"]}}, steady_ledger));
  EXPECT_TRUE(SameOpenGuards(Readings{{"steady", got["steady"]}}, steady_ledger));
  EXPECT_TRUE(AtMost(Readings{{"dropped", got["dropped"]}}, OneLevel("dropped", dropped_ledger)))
      << "a dropped session counted more than it bumped";
  EXPECT_TRUE(RootAllClosed(*stub));
  // No session outlives its grace period.
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto metrics = integration::ScrapeMetrics(daemon.admin_port());
        return metrics && (*metrics)["moq_stats_sessions_known"] == 0;
      },
      absl::Seconds(10)))
      << "sessions still known after every relay left";
  EXPECT_TRUE(Serving(daemon));

  sampler.Stop();
  EXPECT_TRUE(sampler.NeverClosedAboveOpen());
  EXPECT_GT(sampler.good_reads(), 0u);
  EXPECT_LT(sampler.max_rss_kib(), kRssCeilingKib);
  row.bumps = TotalBumps(exact) + TotalBumps(steady_ledger) + TotalBumps(OneLevel("dropped", dropped_ledger));
  row.max_rss_kib = sampler.max_rss_kib();
  std::printf("relay_churn: %llu C ABI relays started\n", static_cast<unsigned long long>(c_relays_started));
  PrintRow(row, !::testing::Test::HasFailure());
}

}  // namespace
}  // namespace test
}  // namespace faults
}  // namespace moq_stats
