// Faults: a relay's session expires while its last batches were applied but
// their acknowledgements never reached it (a network that stalls one way,
// then breaks for longer than the grace period). The relay then cannot tell
// the expiry from a crash and resyncs. Issue 13 item 8 asks that nothing
// count twice then: the sidecar remembers expired sessions and tells the
// resuming relay what was applied. The sums (bytes, frames, groups) must
// equal the relay's ledger exactly; the guards the expiry closed are counted
// open again by the resync, so at the end every guard is closed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/faults/test_tools/fault_env.h"
#include "tests/faults/test_tools/fault_relays.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/faults/test_tools/stalling_proxy.h"
#include "tests/integration/test_tools/daemon_process.h"

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

bool AllClosed(const Readings& r) {
  for (const auto& [key, levels] : r) {
    for (const auto& [tr, c] : levels) {
      if (c.broadcasts != c.broadcasts_closed || c.subscriptions != c.subscriptions_closed) return false;
    }
  }
  return true;
}

TEST(FaultsExpiredSession, UnacknowledgedBatchesOfAnExpiredSessionCountOnce) {
  ScenarioRow row{"expired_session"};
  Rng rng(ScenarioSeed(row.scenario));
  DaemonProcess daemon({"--stats-levels=1", "--grace=300ms"});
  daemon.ListenOnTcp(integration::PickFreeLoopbackPort());
  ASSERT_TRUE(daemon.Start());
  const int tcp_port = std::stoi(daemon.target().substr(daemon.target().rfind(':') + 1));
  StallingProxy proxy(tcp_port);
  ASSERT_GT(proxy.port(), 0);
  Stats stats = Stats::Connect(absl::StrCat("127.0.0.1:", proxy.port()), FastOptions());
  Workers workers;
  workers.push_back(std::make_unique<Worker>(stats, Tier::kExternal, "dup", 2));
  workers.front()->Start(0, /*throttle=*/true);
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= 3; })) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  const std::vector<std::string> keys = {"dup"};
  std::string why;

  // Acknowledgements stop while batches still arrive and are applied.
  proxy.StallReplies(true);
  Readings at_stall;
  ASSERT_TRUE(ReadLevels(*stub, keys, &at_stall, &why)) << why;
  Readings later;
  ASSERT_TRUE(WaitUntil([&] {
    return stats.counters().pending_batches >= 2 && ReadLevels(*stub, keys, &later, &why) && later != at_stall;
  })) << ShowCounters(stats.counters());
  absl::SleepFor(RandomDuration(rng, absl::ZeroDuration(), absl::Milliseconds(100)));
  // The network breaks for longer than the grace period: the session
  // expires and its guards are closed.
  proxy.RefuseNew(true);
  proxy.CutAll();
  ++row.kills;
  ASSERT_TRUE(WaitUntil([&] { return ReadLevels(*stub, keys, &later, &why) && AllClosed(later); }))
      << "the session never expired";
  proxy.StallReplies(false);
  proxy.RefuseNew(false);
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected && stats.counters().pending_batches == 0; }))
      << ShowCounters(stats.counters());
  workers.front()->Stop();
  ASSERT_TRUE(stats.Shutdown(10000ms)) << ShowCounters(stats.counters());

  Readings got;
  ASSERT_TRUE(ReadLevels(*stub, keys, &got, &why)) << why;
  const Readings ledger = LedgerOf(workers, keys);
  for (const auto& [tr, want] : ledger.at("dup")) {
    const Counts& have = got["dup"][tr];
    SCOPED_TRACE(integration::TierRoleName(static_cast<pb::Tier>(tr.first), static_cast<pb::Role>(tr.second)));
    EXPECT_EQ(have.bytes, want.bytes) << "bytes counted twice (or lost)";
    EXPECT_EQ(have.frames, want.frames);
    EXPECT_EQ(have.groups, want.groups);
  }
  EXPECT_TRUE(AllClosed(got));
  EXPECT_TRUE(RootAllClosed(*stub));
  EXPECT_TRUE(Serving(daemon));
  row.iterations = 1;
  row.bumps = TotalBumps(ledger);
  PrintRow(row, !::testing::Test::HasFailure());
}

}  // namespace
}  // namespace test
}  // namespace faults
}  // namespace moq_stats
