// Faults: the daemon stopped (SIGTERM) and killed (SIGKILL) at random moments
// while relays bump through the C++ library and the C ABI, restarted each
// time on the same checkpoint. What docs/semantics.md promises is checked
// against each relay's own ledger:
//   - after graceful restarts, every count exact (section 1);
//   - after a SIGKILL, nothing counted twice, the open guards as the relays
//     hold them once they resync, and what is missing at most what was
//     bumped between the last checkpoint and the resync (section 3);
//   - at every read in between, closed never above open; the daemon's memory
//     under a stated ceiling; /healthz and gRPC answer at the end.
// Random choices come from FAULT_SEED (printed); SOAK_SECONDS runs the loop
// longer (make soak).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/faults/test_tools/c_relay_process.h"
#include "tests/faults/test_tools/fault_env.h"
#include "tests/faults/test_tools/fault_relays.h"
#include "tests/faults/test_tools/invariant_sampler.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/integration/test_tools/daemon_process.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

using integration::DaemonProcess;
using integration::test::CheckpointsWritten;
using integration::test::FastOptions;
using integration::test::RootAllClosed;
using integration::test::ShowCounters;
using integration::test::WaitUntil;
using namespace std::chrono_literals;

// The daemon's resident set stays under this while it runs (it holds a few
// dozen handles and levels; idle it is about 20 MiB).
constexpr uint64_t kRssCeilingKib = 128 * 1024;

// Sessions outlive every restart (grace far longer than a restart), and
// checkpoints every 100 ms: the crash bound.
std::vector<std::string> DaemonFlags() { return {"--stats-levels=1", "--grace=60s", "--checkpoint-interval=100ms"}; }

const std::vector<std::string> kWorkerKeys = {"ka", "kb", "kc"};

Workers StartWorkers(const Stats& a, const Stats& b) {
  Workers workers;
  workers.push_back(std::make_unique<Worker>(a, Tier::kExternal, "ka", 3));
  workers.push_back(std::make_unique<Worker>(a, Tier::kInternal, "kb", 2));
  workers.push_back(std::make_unique<Worker>(b, Tier::kExternal, "kc", 2));
  for (auto& w : workers) w->Start(0, /*throttle=*/true);
  return workers;
}

TEST(FaultsDaemonKill, RandomSigtermRestartsKeepCountsExact) {
  ScenarioRow row{"daemon_sigterm"};
  Rng rng(ScenarioSeed(row.scenario));
  DaemonProcess daemon(DaemonFlags());
  ASSERT_TRUE(daemon.Start());
  InvariantSampler sampler(daemon.target());
  sampler.set_pid(daemon.pid());
  Stats a = Stats::Connect(daemon.target(), FastOptions());
  Stats b = Stats::Connect(daemon.target(), FastOptions());
  Workers workers = StartWorkers(a, b);
  CRelayProcess c_relay(daemon.target(), "cabi", rng());

  const absl::Time end = absl::Now() + ScenarioBudget(absl::Seconds(6));
  const int iterations = ScenarioIterations(6);
  for (int i = 0; i < iterations && absl::Now() < end; ++i) {
    absl::SleepFor(RandomDuration(rng, absl::Milliseconds(100), absl::Milliseconds(600)));
    ASSERT_EQ(daemon.Terminate(), 0) << "iteration " << i;
    ++row.kills;
    absl::SleepFor(RandomDuration(rng, absl::ZeroDuration(), absl::Milliseconds(200)));  // relays bump meanwhile
    ASSERT_TRUE(daemon.Restart()) << "iteration " << i;
    sampler.set_pid(daemon.pid());
    ++row.iterations;
  }
  ASSERT_TRUE(WaitUntil([&] { return a.counters().connected && b.counters().connected; }))
      << ShowCounters(a.counters()) << ShowCounters(b.counters());
  for (auto& w : workers) w->Stop();  // closes every guard
  EXPECT_TRUE(a.Shutdown(10000ms)) << ShowCounters(a.counters());
  EXPECT_TRUE(b.Shutdown(10000ms)) << ShowCounters(b.counters());
  CRelayProcess::Result c = c_relay.Stop();
  ASSERT_TRUE(c.reported) << c.output;
  EXPECT_TRUE(c.acknowledged) << c.output;
  EXPECT_EQ(a.counters().resyncs + b.counters().resyncs, 0u) << "a graceful restart keeps every session";

  // Exact: every level equals what the relays bumped, the root their sum.
  Readings expected = Plus(LedgerOf(workers, kWorkerKeys), LedgerOf(c, "cabi"));
  Readings root = LedgerOf(workers, {""});
  root[""] = Plus(root, Readings{{"", LedgerOf(c, "cabi")["cabi"]}})[""];
  expected[""] = root[""];
  auto stub = daemon.NewStub();
  Readings actual;
  std::string why;
  ASSERT_TRUE(ReadLevels(*stub, {"", "ka", "kb", "kc", "cabi"}, &actual, &why)) << why;
  EXPECT_TRUE(SameReadings(actual, expected));
  EXPECT_TRUE(RootAllClosed(*stub));
  EXPECT_TRUE(Serving(daemon));

  sampler.Stop();
  EXPECT_TRUE(sampler.NeverClosedAboveOpen());
  EXPECT_GT(sampler.good_reads(), 0u);
  EXPECT_LT(sampler.max_rss_kib(), kRssCeilingKib);
  row.bumps = TotalBumps(expected) - TotalBumps(root);
  row.max_rss_kib = sampler.max_rss_kib();
  PrintRow(row, !::testing::Test::HasFailure());
}

TEST(FaultsDaemonKill, RandomSigkillAndSigtermStayWithinTheCrashBound) {
  ScenarioRow row{"daemon_sigkill"};
  Rng rng(ScenarioSeed(row.scenario));
  DaemonProcess daemon(DaemonFlags());
  ASSERT_TRUE(daemon.Start());
  InvariantSampler sampler(daemon.target());
  sampler.set_pid(daemon.pid());
  Stats a = Stats::Connect(daemon.target(), FastOptions());
  Stats b = Stats::Connect(daemon.target(), FastOptions());
  Workers workers = StartWorkers(a, b);
  // The C ABI relay cannot be paused: its level is checked against its
  // ledger at the end (nothing twice, every guard closed).
  CRelayProcess c_relay(daemon.target(), "cabi", rng());
  auto stub = daemon.NewStub();
  auto quiet = [&] {
    ClientCounters ca = a.counters();
    ClientCounters cb = b.counters();
    return ca.connected && cb.connected && ca.pending_batches == 0 && cb.pending_batches == 0;
  };
  // What the sidecar lacks of the workers' ledgers: it grows only at a
  // SIGKILL, by at most what was bumped between the checkpoint before it
  // and the resync after it.
  Readings deficit = LedgerOf(workers, kWorkerKeys);
  for (auto& [key, levels] : deficit) {
    for (auto& [tr, counts] : levels) counts = Counts{};
  }
  // With the workers paused, the sidecar comes to exactly ledger - deficit.
  auto reaches_ledger = [&](Readings* ledger) -> ::testing::AssertionResult {
    *ledger = LedgerOf(workers, kWorkerKeys);
    const Readings want = Minus(*ledger, deficit);
    Readings got;
    std::string why;
    if (WaitUntil([&] { return ReadLevels(*stub, kWorkerKeys, &got, &why) && got == want; }, absl::Seconds(15))) {
      return ::testing::AssertionSuccess();
    }
    return SameReadings(got, want) << " " << why;
  };

  const absl::Time end = absl::Now() + ScenarioBudget(absl::Seconds(10));
  const int iterations = ScenarioIterations(6);
  for (int i = 0; i < iterations && absl::Now() < end; ++i) {
    SCOPED_TRACE(absl::StrCat("iteration ", i));
    absl::SleepFor(RandomDuration(rng, absl::Milliseconds(100), absl::Milliseconds(500)));
    // The first iteration kills, the second terminates, then either.
    const bool sigkill = i == 0 || (i > 1 && rng() % 2 == 0);
    if (!sigkill) {
      ASSERT_EQ(daemon.Terminate(), 0);
      ++row.kills;
      ASSERT_TRUE(daemon.Restart());
      sampler.set_pid(daemon.pid());
      stub = daemon.NewStub();
      // Exact again after a graceful restart (the deficit of earlier crashes
      // aside).
      ASSERT_TRUE(PauseAll(workers));
      Readings ledger;
      EXPECT_TRUE(reaches_ledger(&ledger));
      ResumeAll(workers);
      ++row.iterations;
      continue;
    }
    // A cut the sidecar applied and checkpointed: everything bumped up to it.
    ASSERT_TRUE(PauseAll(workers));
    Readings checkpointed;
    ASSERT_TRUE(reaches_ledger(&checkpointed));
    std::optional<double> written = CheckpointsWritten(daemon.admin_port());
    ASSERT_TRUE(written.has_value()) << "no moq_stats_checkpoints_written_total in /metrics";
    ASSERT_TRUE(WaitUntil([&] {
      std::optional<double> now = CheckpointsWritten(daemon.admin_port());
      return now && *now >= *written + 2;
    }));
    ResumeAll(workers);
    absl::SleepFor(RandomDuration(rng, absl::ZeroDuration(), absl::Milliseconds(300)));
    daemon.Kill();
    ++row.kills;
    ASSERT_TRUE(daemon.Restart());
    sampler.set_pid(daemon.pid());
    stub = daemon.NewStub();
    const uint64_t acked_a = a.counters().batches_acked;
    const uint64_t acked_b = b.counters().batches_acked;
    ASSERT_TRUE(WaitUntil([&] {
      return quiet() && a.counters().batches_acked > acked_a && b.counters().batches_acked > acked_b;
    })) << ShowCounters(a.counters())
        << ShowCounters(b.counters());
    // Everything the crash can lose was bumped by now.
    ASSERT_TRUE(PauseAll(workers));
    const Readings resynced = LedgerOf(workers, kWorkerKeys);
    Readings got;
    std::string why;
    ASSERT_TRUE(WaitForStableReadings(*stub, kWorkerKeys, quiet, &got, &why)) << why;
    EXPECT_TRUE(AtMost(got, resynced)) << "counted twice";
    EXPECT_TRUE(SameOpenGuards(got, resynced)) << "the resync did not restore the open guards";
    const Readings now_missing = Minus(resynced, got);
    EXPECT_TRUE(AtMost(deficit, now_missing)) << "a count lost earlier came back";
    EXPECT_TRUE(AtMost(Minus(now_missing, deficit), Minus(resynced, checkpointed)))
        << "lost more than was bumped between the checkpoint and the resync";
    deficit = now_missing;
    ResumeAll(workers);
    ++row.iterations;
  }
  ASSERT_TRUE(WaitUntil(quiet)) << ShowCounters(a.counters()) << ShowCounters(b.counters());
  for (auto& w : workers) w->Stop();
  EXPECT_TRUE(a.Shutdown(10000ms)) << ShowCounters(a.counters());
  EXPECT_TRUE(b.Shutdown(10000ms)) << ShowCounters(b.counters());
  CRelayProcess::Result c = c_relay.Stop();
  ASSERT_TRUE(c.reported) << c.output;
  EXPECT_TRUE(c.acknowledged) << c.output;

  // After the last resync nothing more is lost: ledger - deficit exactly.
  Readings final_ledger = LedgerOf(workers, kWorkerKeys);
  Readings got;
  std::string why;
  ASSERT_TRUE(ReadLevels(*stub, kWorkerKeys, &got, &why)) << why;
  EXPECT_TRUE(SameReadings(got, Minus(final_ledger, deficit)));
  // The C ABI relay: nothing twice, every guard closed.
  Readings c_got;
  ASSERT_TRUE(ReadLevels(*stub, {"cabi"}, &c_got, &why)) << why;
  EXPECT_TRUE(AtMost(c_got, LedgerOf(c, "cabi")));
  EXPECT_TRUE(SameOpenGuards(c_got, LedgerOf(c, "cabi")));
  EXPECT_TRUE(RootAllClosed(*stub));
  EXPECT_TRUE(Serving(daemon));

  sampler.Stop();
  EXPECT_TRUE(sampler.NeverClosedAboveOpen());
  EXPECT_GT(sampler.good_reads(), 0u);
  EXPECT_LT(sampler.max_rss_kib(), kRssCeilingKib);
  row.bumps = TotalBumps(final_ledger) + TotalBumps(LedgerOf(c, "cabi"));
  row.max_rss_kib = sampler.max_rss_kib();
  PrintRow(row, !::testing::Test::HasFailure());
}

}  // namespace
}  // namespace test
}  // namespace faults
}  // namespace moq_stats
