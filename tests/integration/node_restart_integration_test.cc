// End to end: the node format's per-path counters across a graceful restart
// of the real daemon. A relay's counts (sums and guards still open) are in
// the node broadcast's publisher.json; after SIGTERM and a restart on the
// same checkpoint, with the relay's session waiting in its grace period,
// the frame carries the same counts, not a reset.

#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/watch_client.h"

namespace moq_stats::integration {
namespace {

namespace pb = ::moq::stats::v1;

constexpr char kNodeBroadcast[] = ".stats/node/rs";
constexpr absl::Duration kWait = absl::Seconds(20);
// The counts of live/cam as moq's Traffic serializes them.
constexpr char kCounts[] =
    "\"live/cam\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
    "\"broadcasts_closed\":0,\"subscriptions\":2,\"subscriptions_closed\":1,\"fetches\":3,\"bytes\":1000,"
    "\"frames\":10,\"groups\":1,\"datagrams\":4}";

// Whether the latest publisher.json frame of the node broadcast among
// `events` holds `text`.
bool LatestFrameHolds(const WatchClient::Events& events, const std::string& text) {
  const pb::Frame* latest = nullptr;
  for (const pb::WatchEvent& e : events) {
    if (e.has_frame() && e.frame().path() == kNodeBroadcast && e.frame().track() == "publisher.json") {
      latest = &e.frame();
    }
  }
  return latest != nullptr && absl::StrContains(latest->payload(), text);
}

std::string Describe(const WatchClient::Events& events) {
  std::string out;
  for (const pb::WatchEvent& e : events) {
    if (e.has_frame() && e.frame().path() == kNodeBroadcast)
      out += e.frame().track() + ": " + e.frame().payload() + "\n";
  }
  return out;
}

TEST(NodeRestartIntegrationTest, APathsCountsCarryOnAcrossAGracefulRestart) {
  DaemonProcess daemon({"--stats-format=node", "--stats-node=rs", "--grace=60s"});
  ASSERT_TRUE(daemon.Start());
  {
    RelayStream relay(daemon.channel());
    ASSERT_GRPC_OK(relay.Open("node-restart", nullptr));
    pb::Batch batch;
    batch.set_sequence(1);
    *batch.add_defines() = MakeDefine(1, "live/cam", pb::TIER_EXTERNAL);
    Bumps bumps;
    bumps.broadcasts_opened = 1;
    bumps.subscriptions_opened = 2;
    bumps.subscriptions_closed = 1;
    bumps.bytes = 1000;
    bumps.frames = 10;
    bumps.groups = 1;
    pb::HandleDelta delta = MakeDelta(1, pb::ROLE_PUBLISHER, bumps);
    delta.set_fetches(3);
    delta.set_datagrams(4);
    *batch.add_deltas() = delta;
    ASSERT_TRUE(relay.Send(batch));
    ASSERT_GRPC_OK(relay.WaitAck(1, kWait));
    WatchClient watch(daemon.channel(), ".stats/node");
    ASSERT_TRUE(watch.WaitFor([](const WatchClient::Events& e) { return LatestFrameHolds(e, kCounts); }, kWait))
        << Describe(watch.events());
    // The stream breaks without Close when the daemon stops: the session
    // waits in its grace period, through the restart.
  }
  ASSERT_EQ(daemon.Terminate(), 0);
  ASSERT_TRUE(daemon.Restart());
  WatchClient watch(daemon.channel(), ".stats/node");
  ASSERT_TRUE(watch.WaitFor([](const WatchClient::Events& e) { return LatestFrameHolds(e, kCounts); }, kWait))
      << "after the restart:\n"
      << Describe(watch.events());
}

}  // namespace
}  // namespace moq_stats::integration
