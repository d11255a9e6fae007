// End to end, against the real daemon: the bounds a relay's input must keep
// (a counter never wraps, the relay name is bounded UTF-8), log lines that
// peer text cannot forge, and a relay whose session expired with batches
// applied but unacknowledged told what was applied, across a restart too.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Polls /metrics every 10 ms for at most 5 s until `name` reaches `value`.
bool WaitMetricAtLeast(int port, const std::string& name, double value) {
  for (int i = 0; i < 500; ++i) {
    auto metrics = ScrapeMetrics(port);
    if (metrics && (*metrics)[name] >= value) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

TEST(SessionFaultsIntegrationTest, ADeltaThatWouldWrapACounterIsRefusedNamingIt) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=60s"});
  ASSERT_TRUE(daemon.Start());
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("wrap", &welcome));
  pb::Batch first;
  first.set_sequence(1);
  *first.add_defines() = MakeDefine(1, "w/a", pb::TIER_EXTERNAL);
  *first.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, kMax - 1, 0, 0});
  ASSERT_TRUE(relay.Send(first));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  pb::Batch over;
  over.set_sequence(2);
  *over.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 1, 0, 0});
  *over.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 2, 0, 0});
  ASSERT_TRUE(relay.Send(over));
  grpc::Status status = relay.WaitEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("deltas[1]"));
  EXPECT_THAT(status.error_message(), HasSubstr("bytes"));
  EXPECT_THAT(status.error_message(), HasSubstr("2^64-1"));

  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "w", &level));
  EXPECT_EQ(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).bytes(), kMax - 1) << "nothing of it applied";
  auto metrics = ScrapeMetrics(daemon.admin_port());
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ((*metrics)["moq_stats_batches_rejected_total{reason=\"counter_wrap\"}"], 1.0);
}

TEST(SessionFaultsIntegrationTest, ARelayNameThatIsNotBoundedUtf8IsRefused) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  for (const std::string& name : {std::string("relay\xff\xfe"), std::string(257, 'r')}) {
    RelayStream relay(daemon.channel());
    pb::Welcome welcome;
    grpc::Status status = relay.Open("named", &welcome, name);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("open.relay"));
  }
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("named", &welcome, std::string(256, 'r')));
  EXPECT_FALSE(welcome.resumed()) << "the refused opens created no session";
}

TEST(SessionFaultsIntegrationTest, PeerTextInTheLogCannotForgeALine) {
  DaemonProcess daemon({"--stats-levels=1"});  // grace 300 ms
  ASSERT_TRUE(daemon.Start());
  const std::string forged = "2026-01-01T00:00:00.000Z ERROR forged.cc:1] forged";
  {
    RelayStream relay(daemon.channel());
    pb::Welcome welcome;
    ASSERT_GRPC_OK(relay.Open("id\n" + forged, &welcome, "name\r\n" + forged));
    pb::Batch batch;
    batch.set_sequence(1);
    *batch.add_defines() = MakeDefine(1, "log/a", pb::TIER_EXTERNAL);
    *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 0, 0, 0, 0, 0});
    ASSERT_TRUE(relay.Send(batch));
    ASSERT_GRPC_OK(relay.WaitAck(1));
    relay.Cancel();
  }
  // The grace period runs out and the expiry is logged with the id and name.
  ASSERT_TRUE(WaitMetricAtLeast(daemon.admin_port(), "moq_stats_sessions_expired_total", 1));
  const std::string log = daemon.Log();
  EXPECT_THAT(log, HasSubstr("session \"id\\n" + forged + "\" (relay \"name\\r\\n" + forged + "\")"));
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    EXPECT_FALSE(absl::StartsWith(line, "2026-01-01T00:00:00.000Z")) << "a forged line: " << line;
  }
}

// A session with batch 1 acknowledged and batch 2 applied whose ack the relay
// never saw; the stream broke and the grace period ran out.
void ExpireWithAnUnseenAck(DaemonProcess& daemon, const std::string& id) {
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open(id, &welcome));
  pb::Batch one;
  one.set_sequence(1);
  *one.add_defines() = MakeDefine(1, "exp/a", pb::TIER_EXTERNAL);
  *one.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 100, 1, 1});
  ASSERT_TRUE(relay.Send(one));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  pb::Batch two;
  two.set_sequence(2);
  *two.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 50, 1, 0});
  ASSERT_TRUE(relay.Send(two));
  ASSERT_GRPC_OK(relay.WaitAck(2));  // applied; the relay acts as if the ack was lost
  relay.Cancel();
  ASSERT_TRUE(WaitMetricAtLeast(daemon.admin_port(), "moq_stats_sessions_expired_total", 1));
}

// What the relay library does when told: batch 2 counts as applied, so its
// resync carries only what came after (20 bytes) and the guards open now.
void ResyncAsTold(DaemonProcess& daemon, const std::string& id) {
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open(id, &welcome));
  EXPECT_FALSE(welcome.resumed());
  EXPECT_EQ(welcome.applied_sequence(), 0u);
  ASSERT_EQ(welcome.expired_applied_sequence(), 2u);
  pb::Batch resync;
  resync.set_sequence(3);
  resync.set_resync(true);
  resync.set_release_unlisted(true);
  *resync.add_defines() = MakeDefine(1, "exp/a", pb::TIER_EXTERNAL);
  pb::OpenGuards* open = resync.add_open();
  open->set_handle(1);
  open->set_role(pb::ROLE_PUBLISHER);
  open->set_broadcasts(1);
  open->set_subscriptions(1);
  *resync.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 20, 0, 0});
  ASSERT_TRUE(relay.Send(resync));
  ASSERT_GRPC_OK(relay.WaitAck(3));
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "exp", &level));
  // 170 bytes and 2 frames, each once; the expiry closed the guards and the
  // resync opened them again.
  EXPECT_TRUE(
      SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(2, 1, 2, 1, 170, 2, 1)));
  ASSERT_GRPC_OK(relay.Close());
}

TEST(SessionFaultsIntegrationTest, AnExpiredSessionTellsItsRelayWhatWasApplied) {
  DaemonProcess daemon({"--stats-levels=1"});  // grace 300 ms
  ASSERT_TRUE(daemon.Start());
  ExpireWithAnUnseenAck(daemon, "expiring");
  ResyncAsTold(daemon, "expiring");
}

TEST(SessionFaultsIntegrationTest, WhatAnExpiredSessionAppliedIsRememberedAcrossARestart) {
  DaemonProcess daemon({"--stats-levels=1"});  // grace 300 ms, checkpoints every 100 ms
  ASSERT_TRUE(daemon.Start());
  ExpireWithAnUnseenAck(daemon, "expiring");
  EXPECT_EQ(daemon.Terminate(), 0);  // the final checkpoint holds it
  ASSERT_TRUE(daemon.Restart());
  auto metrics = ScrapeMetrics(daemon.admin_port());
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ((*metrics)["moq_stats_sessions_remembered"], 1.0);
  ResyncAsTold(daemon, "expiring");
}

TEST(SessionFaultsIntegrationTest, AnOldRelayStillResyncsInOneBatch) {
  // What a relay built before resync parts sends: one resync batch, with no
  // field it does not know; the sidecar's new welcome fields are unknown to
  // it and ignored.
  DaemonProcess daemon({"--stats-levels=1", "--grace=60s"});
  ASSERT_TRUE(daemon.Start());
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("old-relay", &welcome));
  EXPECT_TRUE(welcome.resync_parts());
  pb::Batch resync;
  resync.set_sequence(1);
  resync.set_resync(true);
  *resync.add_defines() = MakeDefine(1, "old/a", pb::TIER_EXTERNAL);
  pb::OpenGuards* open = resync.add_open();
  open->set_handle(1);
  open->set_role(pb::ROLE_SUBSCRIBER);
  open->set_broadcasts(3);
  ASSERT_TRUE(relay.Send(resync));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "old", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER), MakeSnapshot(3, 0, 0, 0, 0, 0, 0)));
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
