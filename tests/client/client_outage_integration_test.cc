// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon over its unix socket.
// One side away: a sidecar down at start or for a while never blocks the
// relay and its memory stays bounded; a relay that exits without Shutdown
// has its guards closed by the sidecar after the grace period.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
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

TEST(ClientIntegrationTest, ARelayThatExitsWithoutShutdownHasItsGuardsClosedAfterTheGrace) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=300ms"});
  ASSERT_TRUE(daemon.Start());
  const std::string target = daemon.target();
  const std::string path = "abandoned/live";
  std::vector<std::string> args = {MOQSTATS_ABANDONING_RELAY, target, path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // fork and exec: the child starts a gRPC of its own instead of a copy of
  // this process's threads and connections.
  pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::optional<int> exit_code;
  ASSERT_TRUE(WaitUntil([&] {
    int status = 0;
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r == child || r < 0;
  })) << "the relay did not exit within 10 s";
  if (!exit_code) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  ASSERT_EQ(exit_code, 0) << "the relay saw no batch acknowledged";

  // The sidecar saw the guards open; its grace period (300 ms) then closes
  // them. Polling GetLevel: the wait is for the daemon's timer.
  auto stub = daemon.NewStub();
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  const pb::Snapshot& opened = SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER);
  EXPECT_EQ(opened.broadcasts(), 1u);
  EXPECT_EQ(opened.subscriptions(), 2u);
  auto all_closed = [&] {
    if (!GetLevel(*stub, "", &root).ok()) return false;
    for (pb::Role role : kAllRoles) {
      const pb::Snapshot& s = SnapshotOf(root, pb::TIER_EXTERNAL, role);
      if (s.subscriptions() == 0 || s.subscriptions() != s.subscriptions_closed() ||
          s.broadcasts() != s.broadcasts_closed()) {
        return false;
      }
    }
    return true;
  };
  const absl::Time exited = absl::Now();
  EXPECT_TRUE(WaitUntil(all_closed, absl::Seconds(10))) << root.DebugString();
  EXPECT_GE(absl::Now() - exited, absl::Milliseconds(100)) << "closed before the grace period could run";
  for (pb::Role role : kAllRoles) {
    const pb::Snapshot& s = SnapshotOf(root, pb::TIER_EXTERNAL, role);
    EXPECT_EQ(s.broadcasts(), 1u) << "counted once, closed once";
    EXPECT_EQ(s.broadcasts_closed(), 1u);
  }
  EXPECT_EQ(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).subscriptions_closed(), 2u);
  EXPECT_EQ(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER).subscriptions_closed(), 1u);
  pb::Level segment;
  ASSERT_GRPC_OK(GetLevel(*stub, "abandoned", &segment));
  EXPECT_TRUE(SameCounts(segment, root));
}

TEST(ClientIntegrationTest, ASidecarDownAtStartNeverBlocksTheRelay) {
  DaemonProcess daemon({"--stats-levels=1"});  // not started yet
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  constexpr uint64_t kBumps = 1000000;
  {
    moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast("early/bird");
    ASSERT_FALSE(bs.empty());
    moq_stats::PublisherStats publisher = bs.publisher();
    moq_stats::PublisherTrack track = publisher.track("video");
    const absl::Time started = absl::Now();
    for (uint64_t i = 0; i < kBumps; ++i) {
      track.bytes(3);
      track.frame();
    }
    track.group();
    EXPECT_LT(absl::Now() - started, absl::Seconds(1)) << "1M bumps with no sidecar took too long";
    absl::SleepFor(absl::Milliseconds(100));  // a few rounds of failed connects
    moq_stats::ClientCounters c = stats.counters();
    EXPECT_FALSE(c.connected);
    EXPECT_EQ(c.live_handles, 1u);
    EXPECT_EQ(c.pending_batches, 0u);
    EXPECT_FALSE(c.last_error.empty()) << ShowCounters(c);
  }
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(stats.Shutdown(10000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(1, 1, 1, 1, 3 * kBumps, kBumps, 1)));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
  EXPECT_GE(stats.counters().reconnects, 1u);
}

// Regression: live_handles used to never go down (see
// HandlesLetGoOfAreReleasedToTheSidecar).
TEST(ClientIntegrationTest, MemoryStaysBoundedByLiveHandlesWhileTheSidecarIsDown) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Options options = FastOptions();
  options.max_inflight_batches = 3;
  options.max_batch_entries = 8;
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);
  uint64_t bytes = 0;
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 20; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("mem/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
    }
    for (auto& t : tracks) t.bytes(1);
    bytes += tracks.size();
    ASSERT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= 1; })) << ShowCounters(stats.counters());
    EXPECT_EQ(stats.counters().live_handles, 20u);

    // The sidecar goes away (gracefully, so that the counts stay checkable
    // exactly); the relay keeps bumping for a while and lets half of its
    // broadcasts go.
    EXPECT_EQ(daemon.Terminate(), 0);
    const absl::Time until = absl::Now() + absl::Milliseconds(1000);
    bool dropped = false;
    while (absl::Now() < until) {
      for (int n = 0; n < 10000; ++n) {
        for (auto& t : tracks) t.bytes(1);
        bytes += tracks.size();
      }
      if (!dropped && absl::Now() > until - absl::Milliseconds(700)) {
        tracks.resize(10);
        broadcasts.resize(10);
        dropped = true;
      }
      moq_stats::ClientCounters c = stats.counters();
      EXPECT_LE(c.pending_batches, options.max_inflight_batches) << ShowCounters(c);
      EXPECT_GE(c.live_handles, broadcasts.size());
      EXPECT_LE(c.live_handles, 20u);
      std::this_thread::sleep_for(2ms);
    }
    EXPECT_TRUE(dropped);
    EXPECT_FALSE(stats.counters().connected);
    // A handle let go of leaves the table at the next flusher round, sidecar
    // or not.
    EXPECT_TRUE(WaitUntil([&] { return stats.counters().live_handles == broadcasts.size(); }, absl::Seconds(1)))
        << "holding " << broadcasts.size() << " broadcasts: " << ShowCounters(stats.counters());
    ASSERT_TRUE(daemon.Restart());
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  EXPECT_EQ(stats.counters().pending_batches, 0u);
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "mem", &level));
  EXPECT_TRUE(
      SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(0, 0, 20, 20, bytes, 0, 0)));
}

}  // namespace
}  // namespace test
}  // namespace integration
}  // namespace moq_stats
