// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon. A relay at the limits the
// sidecar advertises (65,536 handles, paths near 1,024 bytes) resyncs after
// the sidecar lost its state: the resync, far over the 16 MiB message cap as
// one batch, goes in parts that the sidecar applies as one.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "tests/client/test_tools/client_integration_tools.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace test {
namespace {

using namespace std::chrono_literals;

constexpr int kHandles = 65536;  // the sidecar's default --max-handles

// "big/<i>/xxx…", 1,000 bytes.
std::string LongPath(int i) {
  std::string path = absl::StrCat("big/", i, "/");
  path.resize(1000, 'x');
  return path;
}

TEST(ClientResyncLimitsIntegrationTest, ARelayAtTheLimitsResyncsAfterTheSidecarLostItsState) {
  // No checkpoint: a SIGKILL loses everything, so the relay must resync all
  // of its handles.
  DaemonProcess daemon({"--stats-levels=1", "--checkpoint-path=", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Options options = FastOptions();
  options.flush_interval = 20ms;
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);
  std::vector<moq_stats::BroadcastStats> broadcasts;
  std::vector<moq_stats::PublisherStats> publishers;
  broadcasts.reserve(kHandles);
  publishers.reserve(kHandles);
  for (int i = 0; i < kHandles; ++i) {
    broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(LongPath(i)));
    publishers.push_back(broadcasts.back().publisher());
  }
  auto stub = daemon.NewStub();
  auto open_on_big = [&](pb::Snapshot* out) {
    pb::Level level;
    if (!GetLevel(*stub, "big", &level).ok()) return false;
    *out = SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER);
    return out->broadcasts() == kHandles;
  };
  pb::Snapshot snapshot;
  ASSERT_TRUE(WaitUntil([&] { return open_on_big(&snapshot); }, absl::Seconds(60)))
      << snapshot.DebugString() << ShowCounters(stats.counters());

  daemon.Kill();
  ASSERT_TRUE(daemon.Restart());
  stub = daemon.NewStub();
  snapshot.Clear();
  // The resync defines every handle again and opens its broadcast.
  ASSERT_TRUE(WaitUntil([&] { return open_on_big(&snapshot); }, absl::Seconds(60)))
      << "the relay never resynced: " << snapshot.DebugString() << ShowCounters(stats.counters());
  EXPECT_EQ(snapshot.broadcasts_closed(), 0u);
  moq_stats::ClientCounters c = stats.counters();
  EXPECT_GE(c.resyncs, 1u) << ShowCounters(c);
  // The level's counts change inside the apply of the last part; the held
  // parts are let go of right after it, so the gauge is read until it
  // reaches zero.
  std::string error;
  std::optional<std::map<std::string, double>> metrics;
  EXPECT_TRUE(WaitUntil(
      [&] {
        metrics = ScrapeMetrics(daemon.admin_port(), &error);
        return metrics.has_value() && (*metrics)["moq_stats_resync_parts_held_bytes"] == 0.0 &&
               (*metrics)["moq_stats_batches_applied_total"] >= 1.0;
      },
      absl::Seconds(30)))
      << "resync parts still held: " << error << " "
      << (metrics ? (*metrics)["moq_stats_resync_parts_held_bytes"] : -1.0) << ShowCounters(stats.counters());
  ASSERT_TRUE(metrics.has_value()) << error;
  // 65,536 handles of ~1 KiB in parts of at most 4 MiB.
  EXPECT_GE((*metrics)["moq_stats_resync_parts_total"], 15.0);

  // Every guard closed: the counts meet.
  publishers.clear();
  ASSERT_TRUE(stats.Shutdown(60000ms)) << ShowCounters(stats.counters());
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "big", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(kHandles, kHandles, 0, 0, 0, 0, 0)));
}

}  // namespace
}  // namespace test
}  // namespace integration
}  // namespace moq_stats
