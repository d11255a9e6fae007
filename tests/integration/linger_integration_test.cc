// End to end: after a level's closing frame its broadcast stays announced
// for one stats interval, and a SIGTERM during that interval does not wait
// it out.

#include <csignal>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/watch_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

// Long enough that the linger is told apart from the shutdown by far.
constexpr absl::Duration kInterval = absl::Seconds(8);
constexpr char kLevelPath[] = ".stats/prefix/linger/sjc";

// Whether the publisher.json frames of `path` include one where every
// subscription is closed (and at least one was opened).
bool ShowsClosingFrame(const WatchClient::Events& events) {
  for (const pb::Frame& frame : HistoryOf(events, kLevelPath).frames) {
    if (frame.track() != "publisher.json") continue;
    FrameCounts counts = ParseFrameCounts(frame.payload());
    if (counts.ok && counts.snapshot.subscriptions() == 1 && counts.snapshot.subscriptions_closed() == 1) return true;
  }
  return false;
}

TEST(LingerIntegrationTest, ClosingFrameStaysAnnouncedAndShutdownDoesNotWaitForTheLinger) {
  DaemonProcess daemon({"--stats-node=sjc", "--stats-interval=8s"});
  ASSERT_TRUE(daemon.Start());
  WatchClient watch(daemon.channel(), ".stats", absl::Seconds(60));

  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("linger-relay", nullptr));
  pb::Batch open;
  open.set_sequence(1);
  *open.add_defines() = MakeDefine(1, "linger/v", pb::TIER_EXTERNAL);
  *open.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 10, 1, 0});
  ASSERT_TRUE(relay.Send(open));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  // The first tick is immediate: the broadcast is announced at once.
  ASSERT_TRUE(
      watch.WaitFor([](const WatchClient::Events& e) { return HistoryOf(e, kLevelPath).announced; }, absl::Seconds(10)))
      << Summarize(watch.events());

  pb::Batch close;
  close.set_sequence(2);
  *close.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 1, 0, 1, 0, 0, 0});
  ASSERT_TRUE(relay.Send(close));
  ASSERT_GRPC_OK(relay.WaitAck(2));
  // The next tick writes the closing counts...
  ASSERT_TRUE(watch.WaitFor(ShowsClosingFrame, kInterval + absl::Seconds(10)))
      << "no closing frame; " << Summarize(watch.events());
  // ...and the broadcast stays announced: no end within a quarter of the
  // interval after that frame arrived.
  EXPECT_FALSE(
      watch.WaitFor([](const WatchClient::Events& e) { return HistoryOf(e, kLevelPath).ended; }, kInterval / 4))
      << "the broadcast ended right after its closing frame; " << Summarize(watch.events());

  // SIGTERM with about three quarters of the linger left: the daemon exits
  // without waiting it out.
  const absl::Time signalled = absl::Now();
  daemon.Signal(SIGTERM);
  std::optional<int> exit_code = daemon.Wait(absl::Seconds(20));
  ASSERT_TRUE(exit_code.has_value()) << "the daemon did not exit within 20 s of SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(absl::Now() - signalled, kInterval / 2) << "the shutdown waited for the linger";
  EXPECT_THAT(daemon.Log(), HasSubstr("shut down: final tick on"));
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
