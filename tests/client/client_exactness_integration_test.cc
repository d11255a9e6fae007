// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon over its unix socket.
// Counts arrive exactly: threads bump guards as a relay would while the test
// keeps its own record of every bump, compared with the sidecar's levels
// (GetLevel) after a clean run; paths under the prefix and a disabled Stats
// count nothing.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
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

// ---------------------------------------------------------------------------

TEST(ClientIntegrationTest, HeavyMultiThreadedBumpingArrivesExactly) {
  DaemonProcess daemon({"--stats-levels=1"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());

  // Two pairs of threads; the threads of a pair share their broadcasts (one
  // handle, bumped concurrently by both).
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "heavy", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "heavy", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "peer", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "peer", 4));
  const absl::Time started = absl::Now();
  for (auto& w : workers) w->Start(200000, /*throttle=*/false);
  for (auto& w : workers) w->Join();
  EXPECT_LT(absl::Now() - started, absl::Seconds(10)) << "bumping took too long";

  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) EXPECT_TRUE(LevelEquals(*stub, key, RecordOf(workers, key)));
  EXPECT_TRUE(RootAllClosed(*stub));
  EXPECT_EQ(RecordOf(workers, "")[std::make_pair(pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER)].frames, 2u * 4 * 200000);

  moq_stats::ClientCounters c = stats.counters();
  EXPECT_FALSE(c.connected) << "the session is closed";
  EXPECT_EQ(c.pending_batches, 0u);
  EXPECT_GT(c.deltas_sent, 0u);
  EXPECT_GE(c.batches_sent, 1u);
}

// Regression: ClientCore::OnAck used to add 1 to batches_acked per Ack
// message that raised the acknowledged sequence, while the sidecar coalesces
// acks (one Ack covers every batch applied while an ack was being written),
// so after a clean run batches_acked < batches_sent. Many small batches back
// to back make the sidecar coalesce acks in most runs.
TEST(ClientIntegrationTest, EveryBatchSentIsCountedAcknowledgedAfterACleanRun) {
  DaemonProcess daemon({"--stats-levels=1"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Options options = FastOptions();
  options.max_batch_entries = 4;  // one handle per batch: many batches per flush
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 100; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("many/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
    }
    for (int round = 0; round < 20; ++round) {
      for (auto& t : tracks) t.bytes(100);
      std::this_thread::sleep_for(5ms);
    }
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  moq_stats::ClientCounters c = stats.counters();
  ASSERT_EQ(c.reconnects, 0u) << "a clean run was wanted: " << ShowCounters(c);
  EXPECT_GT(c.batches_sent, 100u);
  EXPECT_EQ(c.batches_acked, c.batches_sent) << ShowCounters(c);
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "many", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(0, 0, 100, 100, 100 * 20 * 100, 0, 0)));
}

TEST(ClientIntegrationTest, PathsUnderThePrefixAndADisabledStatsCountNothing) {
  DaemonProcess daemon({"--stats-levels=2"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  moq_stats::Stats disabled = moq_stats::Stats::Disabled();
  moq_stats::Stats default_constructed;
  EXPECT_TRUE(stats.enabled());
  EXPECT_FALSE(disabled.enabled());
  EXPECT_FALSE(default_constructed.enabled());
  {
    moq_stats::StatsHandle external = stats.tier(moq_stats::Tier::kExternal);
    std::vector<moq_stats::BroadcastStats> empty = {
        external.broadcast(".stats"),
        external.broadcast(".stats/prefix/counted/sjc"),
        external.broadcast("//.stats//x/"),
        stats.tier(moq_stats::Tier::kInternal).broadcast(".stats/y"),
        external.broadcast(std::string(1025, 'a')),  // over 1024 bytes
        external.broadcast("bad\xff"
                           "utf8"),
        disabled.tier(moq_stats::Tier::kExternal).broadcast("counted/x"),
        default_constructed.tier(moq_stats::Tier::kInternal).broadcast("counted/x"),
    };
    std::string many_segments;
    for (int i = 0; i < 33; ++i) absl::StrAppend(&many_segments, i ? "/" : "", "s", i);
    empty.push_back(external.broadcast(many_segments));
    for (size_t i = 0; i < empty.size(); ++i) {
      const moq_stats::BroadcastStats& bs = empty[i];
      EXPECT_TRUE(bs.empty()) << "handle " << i;
      // Every guard of an empty handle is a no-op.
      moq_stats::PublisherStats p = bs.publisher();
      moq_stats::PublisherTrack t = p.track("v");
      t.bytes(1000);
      t.frame();
      t.group();
      moq_stats::SubscriberStats s = bs.subscriber();
      moq_stats::SubscriberTrack st = bs.subscriber_track("v");
      st.bytes(5);
    }
    // One path that does count, for contrast.
    moq_stats::BroadcastStats counted = external.broadcast("counted/x");
    ASSERT_FALSE(counted.empty());
    moq_stats::PublisherTrack t = counted.publisher_track("v");
    t.bytes(7);
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(stats.counters().live_handles, 1u) << "only the counted path has a handle";
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  EXPECT_TRUE(disabled.Shutdown(1000ms));
  EXPECT_TRUE(default_constructed.Shutdown(0ms));
  moq_stats::ClientCounters off = disabled.counters();
  EXPECT_FALSE(off.connected);
  EXPECT_EQ(off.batches_sent, 0u);
  EXPECT_EQ(off.live_handles, 0u);

  auto stub = daemon.NewStub();
  std::vector<pb::Level> levels;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "", 100, &levels));
  std::vector<std::string> keys;
  for (const pb::Level& level : levels) keys.push_back(level.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"", "counted", "counted/x"}));
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(0, 0, 1, 1, 7, 0, 0)));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_INTERNAL, pb::ROLE_PUBLISHER), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_INTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
}

}  // namespace
}  // namespace test
}  // namespace integration
}  // namespace moq_stats
