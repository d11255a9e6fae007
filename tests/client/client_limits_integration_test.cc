// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon over its unix socket.
// The sidecar's limits: its batch limit from the welcome is honoured, and
// handles let go of are released so that --max-handles is never reached.

#include <chrono>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Regression: ClientCore::OnWelcome used to store the sidecar's
// welcome.limits().max_batch_entries without passing it on, so SessionState
// kept splitting at Options::max_batch_entries (1024 by default). Against a
// sidecar with a lower --max-batch-entries, the first batch was refused
// (RESOURCE_EXHAUSTED) and resent on every reconnect: nothing was ever
// counted and Shutdown timed out.
TEST(ClientIntegrationTest, TheSidecarsBatchLimitFromTheWelcomeIsHonoured) {
  DaemonProcess daemon({"--stats-levels=1", "--max-batch-entries=8"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());  // 1024 entries
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 30; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("limit/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
      tracks.back().bytes(10);
    }
  }
  EXPECT_TRUE(stats.Shutdown(3000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level level;
  grpc::Status status = GetLevel(*stub, "limit", &level);
  ASSERT_GRPC_OK(status);
  EXPECT_TRUE(
      SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(0, 0, 30, 30, 300, 0, 0)));
}

// Regression: handles used to be never released
// (ClientCore::ReleaseUnreferencedLocked tested use_count() == 1 while
// SessionState::Tracked held a second shared_ptr). A relay going through more
// broadcast paths than the sidecar's --max-handles, holding one at a time,
// had its next define refused (RESOURCE_EXHAUSTED "the session would hold
// more than 4 handles") and resent it forever.
// Regression: in that reconnect loop the process used to abort ("pure
// virtual method called" or heap corruption): ClientCore::KickWrite, called
// by the flusher thread outside any gRPC reaction, started a write on a
// Stream without a hold, with a pointer into writes_, after releasing mu_; a
// stream ending in between had OnStreamDone clear writes_ and OnDone delete
// the Stream.
TEST(ClientIntegrationTest, HandlesLetGoOfAreReleasedToTheSidecar) {
  DaemonProcess daemon({"--stats-levels=1", "--max-handles=4"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  for (int i = 0; i < 10; ++i) {
    moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("churn/", i));
    moq_stats::PublisherStats publisher = bs.publisher();
    moq_stats::PublisherTrack track = publisher.track("v");
    track.bytes(100);
    const uint64_t acked = stats.counters().batches_acked;
    if (!WaitUntil([&] { return stats.counters().batches_acked > acked; }, absl::Seconds(2))) {
      ADD_FAILURE() << "broadcast " << i << " (holding 1 of " << i + 1
                    << " paths used) was never acknowledged: " << ShowCounters(stats.counters());
      break;
    }
  }
  // Every broadcast let go of: gone from the table at the next flusher round.
  EXPECT_TRUE(WaitUntil([&] { return stats.counters().live_handles == 0; }, absl::Seconds(1)))
      << ShowCounters(stats.counters());
  EXPECT_TRUE(stats.Shutdown(3000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "churn", &level));
  EXPECT_TRUE(
      SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(10, 10, 10, 10, 1000, 0, 0)));
}

}  // namespace
}  // namespace test
}  // namespace integration
}  // namespace moq_stats
