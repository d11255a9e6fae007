// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon over its unix socket.
// The daemon restarted under a running relay: counts stay exact across
// graceful restarts (SIGTERM, resends after each welcome) and within the
// crash bound after a SIGKILL.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "tests/client/test_tools/client_integration_tools.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace test {
namespace {

using namespace std::chrono_literals;

TEST(ClientIntegrationTest, DaemonRestartedMidRunKeepsCountsExactAfterSigtermAndBoundedAfterSigkill) {
  // The session must outlive each restart: a grace period far longer than
  // one. Checkpoints every 100 ms (the crash bound).
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s", "--checkpoint-interval=100ms"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "restart", 3));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "crash", 3));
  for (auto& w : workers) w->Start(0, /*throttle=*/true);
  auto pause_all = [&] {
    for (auto& w : workers) ASSERT_TRUE(w->Pause());
  };
  auto resume_all = [&] {
    for (auto& w : workers) w->Resume();
  };
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= 3; })) << ShowCounters(stats.counters());
  absl::SleepFor(absl::Milliseconds(200));

  // SIGTERM, then a restart on the same directory, the threads bumping all
  // along.
  EXPECT_EQ(daemon.Terminate(), 0);
  absl::SleepFor(absl::Milliseconds(100));  // bumps while the sidecar is away
  ASSERT_TRUE(daemon.Restart());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  absl::SleepFor(absl::Milliseconds(200));

  // Exact after the SIGTERM cycle: with the threads held, the sidecar comes
  // to exactly what they bumped (and never above it on the way).
  pause_all();
  {
    auto stub = daemon.NewStub();
    std::string why;
    EXPECT_TRUE(WaitUntil([&] { return EveryLevelEquals(*stub, workers, &why); }, absl::Seconds(5))) << why;
    EXPECT_EQ(stats.counters().resyncs, 0u) << "a graceful restart keeps the session";
    EXPECT_GE(stats.counters().reconnects, 1u);
  }
  resume_all();

  // SIGKILL shortly after a checkpoint was written (so that batches are
  // acknowledged after it and lost with the crash), then a restart.
  std::map<std::string, std::map<std::pair<int, int>, Counts>> before_kill;  // a second or more before it
  for (const std::string& key : KeysOf(workers)) before_kill[key] = RecordOf(workers, key);
  absl::SleepFor(absl::Milliseconds(1000));
  std::optional<double> written = CheckpointsWritten(daemon.admin_port());
  ASSERT_TRUE(written.has_value()) << "no moq_stats_checkpoints_written_total in /metrics";
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<double> now = CheckpointsWritten(daemon.admin_port());
        return now && *now > *written;
      },
      absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(25));
  const uint64_t acked_before_kill = stats.counters().batches_acked;
  daemon.Kill();
  ASSERT_TRUE(daemon.Restart());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().resyncs >= 1 && stats.counters().connected; }))
      << "no resync after the crash: " << ShowCounters(stats.counters());
  // Everything the resync and the lost batches could cover was bumped by now.
  pause_all();
  std::map<std::string, std::map<std::pair<int, int>, Counts>> after_resync;
  for (const std::string& key : KeysOf(workers)) after_resync[key] = RecordOf(workers, key);
  resume_all();
  absl::SleepFor(absl::Milliseconds(300));

  for (auto& w : workers) w->Stop();  // closes every guard
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  moq_stats::ClientCounters c = stats.counters();
  EXPECT_GE(c.reconnects, 2u) << ShowCounters(c);
  EXPECT_GE(c.resyncs, 1u) << ShowCounters(c);
  EXPECT_GT(c.batches_acked, acked_before_kill);

  // After the crash: never more than the relay bumped; at least what was
  // bumped a second before the kill, and at least everything but what was
  // bumped between then and the resync (what the crash can lose).
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    for (const auto& [tr, final_tally] : RecordOf(workers, key)) {
      auto tier = static_cast<pb::Tier>(tr.first);
      auto role = static_cast<pb::Role>(tr.second);
      const pb::Snapshot& got = SnapshotOf(level, tier, role);
      SCOPED_TRACE(absl::StrCat("level \"", key, "\" ", TierRoleName(tier, role)));
      const Counts& early = before_kill[key][tr];
      Counts lost_at_most = after_resync[key][tr] - early;
      Counts lo = final_tally - lost_at_most;
      EXPECT_TRUE(SnapshotWithin(got, ToProto(early), ToProto(final_tally)));
      EXPECT_TRUE(SnapshotWithin(got, ToProto(lo), ToProto(final_tally)));
      EXPECT_TRUE(OpenAtLeastClosed(got));
    }
  }
  EXPECT_TRUE(RootAllClosed(*stub));
}

// Graceful restarts one after the other while the relay bumps: each welcome
// may come with batches to resend (those the draining sidecar refused), which
// the library writes at once, after its open. Every count arrives exactly.
TEST(ClientIntegrationTest, ResendsAfterEveryGracefulRestartAreDelivered) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "again", 8));
  for (auto& w : workers) w->Start(0, /*throttle=*/true);
  for (int cycle = 0; cycle < 4; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    const uint64_t acked = stats.counters().batches_acked;
    ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected && stats.counters().batches_acked > acked + 2; }))
        << ShowCounters(stats.counters());
    EXPECT_EQ(daemon.Terminate(), 0);
    ASSERT_TRUE(daemon.Restart());
  }
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  for (auto& w : workers) w->Stop();
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) EXPECT_TRUE(LevelEquals(*stub, key, RecordOf(workers, key)));
}

}  // namespace
}  // namespace test
}  // namespace integration
}  // namespace moq_stats
