// End to end: the life of a relay session across broken streams. Resumed
// within the grace period it loses and duplicates nothing; abandoned past it,
// every guard it held is closed and the levels' publishers stop.

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/integration/test_tools/watch_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(10);

// Batch `i` of a steady relay: one handle per tier, guards opening faster
// than they close, sums that differ per batch so a lost or doubled batch
// shows.
pb::Batch SteadyBatch(uint64_t i) {
  pb::Batch batch;
  batch.set_sequence(i);
  if (i == 1) {
    *batch.add_defines() = MakeDefine(1, "resume/a", pb::TIER_EXTERNAL);
    *batch.add_defines() = MakeDefine(2, "resume/b", pb::TIER_INTERNAL);
  }
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {i % 2, i % 4 == 0 ? 1u : 0u, 2, 1, 1000 + i, i, i % 3});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {1, 0, 1, 0, 7 * i, 1, 1});
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_SUBSCRIBER, {0, 0, 0, 0, i * i, 0, 0});
  return batch;
}

void ExpectLevelsMatch(pb::StatsService::Stub& stub, const CountModel& model) {
  for (const std::string& key : model.keys()) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(stub, key, &level));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << "level \"" << key << "\" " << TierRoleName(tier, role);
      }
    }
  }
}

TEST(SessionIntegrationTest, StreamBrokenAndResumedWithinGraceLosesAndDuplicatesNothing) {
  // A long grace period: the resume below must not race its expiry.
  DaemonProcess daemon({"--stats-levels=2", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  constexpr uint64_t kBatches = 40;
  constexpr uint64_t kAckedBeforeBreak = 10;
  constexpr uint64_t kSentBeforeBreak = 25;
  CountModel model(2);
  for (uint64_t i = 1; i <= kBatches; ++i) model.Apply(SteadyBatch(i));

  uint64_t acked_before_break = 0;
  {
    RelayStream relay(daemon.channel());
    pb::Welcome welcome;
    ASSERT_GRPC_OK(relay.Open("resume-relay", &welcome));
    EXPECT_FALSE(welcome.resumed());
    for (uint64_t i = 1; i <= kAckedBeforeBreak; ++i) ASSERT_TRUE(relay.Send(SteadyBatch(i)));
    ASSERT_GRPC_OK(relay.WaitAck(kAckedBeforeBreak));
    // More in flight, then the connection breaks without waiting for acks.
    for (uint64_t i = kAckedBeforeBreak + 1; i <= kSentBeforeBreak; ++i) ASSERT_TRUE(relay.Send(SteadyBatch(i)));
    relay.Cancel();
    acked_before_break = relay.acked();
  }

  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("resume-relay", &welcome));
  EXPECT_TRUE(welcome.resumed());
  const uint64_t k = welcome.applied_sequence();
  EXPECT_GE(k, acked_before_break);
  EXPECT_GE(k, kAckedBeforeBreak);
  EXPECT_LE(k, kSentBeforeBreak);
  // As the relay would: resend everything after k, in order.
  for (uint64_t i = k + 1; i <= kBatches; ++i) ASSERT_TRUE(relay.Send(SteadyBatch(i)));
  ASSERT_GRPC_OK(relay.WaitAck(kBatches));

  auto stub = daemon.NewStub();
  ExpectLevelsMatch(*stub, model);
  // The root, spelled out: the sums of all 40 batches exactly once.
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_EQ(root.external_publisher().bytes(), kBatches * 1000 + kBatches * (kBatches + 1) / 2);
  EXPECT_EQ(root.external_publisher().subscriptions(), 2 * kBatches);
  EXPECT_EQ(root.internal_subscriber().bytes(), 7 * kBatches * (kBatches + 1) / 2);
  EXPECT_EQ(root.internal_subscriber().broadcasts(), kBatches);
  EXPECT_GRPC_OK(relay.Close());
}

TEST(SessionIntegrationTest, NewerStreamTakesTheSessionOverAndTheOlderEndsAborted) {
  DaemonProcess daemon({"--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  RelayStream older(daemon.channel());
  ASSERT_GRPC_OK(older.Open("takeover-relay", nullptr));
  ASSERT_TRUE(older.Send(SteadyBatch(1)));
  ASSERT_GRPC_OK(older.WaitAck(1));

  RelayStream newer(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(newer.Open("takeover-relay", &welcome));
  EXPECT_TRUE(welcome.resumed());
  EXPECT_EQ(welcome.applied_sequence(), 1u);
  grpc::Status ended = older.WaitEnd(kWait);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::ABORTED) << Describe(ended);
  EXPECT_THAT(ended.error_message(), HasSubstr("taken over"));

  ASSERT_TRUE(newer.Send(SteadyBatch(2)));
  ASSERT_GRPC_OK(newer.WaitAck(2));
  CountModel model(1);
  model.Apply(SteadyBatch(1));
  model.Apply(SteadyBatch(2));
  auto stub = daemon.NewStub();
  ExpectLevelsMatch(*stub, model);
  EXPECT_GRPC_OK(newer.Close());
}

// The (tier, role) a level broadcast's track carries.
std::pair<pb::Tier, pb::Role> TrackTierRole(const std::string& track) {
  if (track == "publisher.json") return {pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER};
  if (track == "subscriber.json") return {pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER};
  if (track == "internal/publisher.json") return {pb::TIER_INTERNAL, pb::ROLE_PUBLISHER};
  return {pb::TIER_INTERNAL, pb::ROLE_SUBSCRIBER};
}

TEST(SessionIntegrationTest, StreamAbandonedPastGraceHasItsGuardsClosedAndItsPublishersStop) {
  DaemonProcess daemon({"--stats-levels=2", "--grace=300ms"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();

  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "grace/a/v", pb::TIER_EXTERNAL);
  *batch.add_defines() = MakeDefine(2, "grace/b", pb::TIER_INTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 3, 0, 100, 4, 1});
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_SUBSCRIBER, {2, 0, 4, 1, 50, 2, 1});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {1, 0, 2, 1, 5, 1, 0});
  CountModel model(2);
  model.Apply(batch);

  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("abandoned-relay", nullptr));
  ASSERT_TRUE(relay.Send(batch));
  ASSERT_GRPC_OK(relay.WaitAck(1));

  const std::map<std::string, std::string> broadcasts = {{"", ".stats/prefix"},
                                                         {"grace", ".stats/prefix/grace"},
                                                         {"grace/a", ".stats/prefix/grace/a"},
                                                         {"grace/b", ".stats/prefix/grace/b"}};
  EXPECT_EQ(std::vector<std::string>(model.keys().begin(), model.keys().end()),
            std::vector<std::string>({"", "grace", "grace/a", "grace/b"}));
  for (const auto& [key, path] : broadcasts) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    EXPECT_TRUE(level.publishing()) << key;
    EXPECT_EQ(level.advertised_path(), path);
  }
  // The watcher starts once the four broadcasts run and wrote their first
  // frames (4 levels x 4 tracks), so that it follows them from their latest
  // frame whatever happens to a watcher that comes earlier (a case of its own
  // in watch_integration_test.cc). It sees each broadcast running, with its
  // open subscriptions.
  ASSERT_TRUE(WaitForCounter(*stub, "moq_stats_frames_written_total", 16));
  WatchClient watch(daemon.channel(), ".stats");
  ASSERT_TRUE(watch.WaitFor(
      [&](const WatchClient::Events& events) {
        for (const auto& [key, path] : broadcasts) {
          BroadcastHistory history = HistoryOf(events, path);
          bool open_seen = false;
          for (const pb::Frame& frame : history.frames) {
            FrameCounts counts = ParseFrameCounts(frame.payload());
            open_seen |= counts.ok && counts.snapshot.subscriptions() > counts.snapshot.subscriptions_closed();
          }
          if (!history.announced || !open_seen) return false;
        }
        return true;
      },
      kWait))
      << "the watcher did not see every level broadcast with open subscriptions; " << Summarize(watch.events());

  // The relay vanishes and never comes back.
  relay.Cancel();

  // Event-driven: the broadcasts end once the grace period expired and the
  // publishers wrote their last frames.
  ASSERT_TRUE(watch.WaitFor(
      [&](const WatchClient::Events& events) {
        for (const auto& [key, path] : broadcasts) {
          if (!HistoryOf(events, path).ended) return false;
        }
        return true;
      },
      kWait))
      << "not every level broadcast ended within " << kWait << "; " << Summarize(watch.events());

  model.CloseAll();
  const WatchClient::Events events = watch.events();
  for (const auto& [key, path] : broadcasts) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    // The last frame of each track before the end shows every guard closed,
    // and the final counts.
    std::map<std::string, pb::Frame> last;
    for (const pb::Frame& frame : HistoryOf(events, path).frames) last[frame.track()] = frame;
    EXPECT_EQ(last.size(), 4u) << path;
    for (const auto& [track, frame] : last) {
      FrameCounts counts = ParseFrameCounts(frame.payload());
      ASSERT_TRUE(counts.ok) << frame.payload();
      EXPECT_EQ(counts.snapshot.subscriptions_closed(), counts.snapshot.subscriptions()) << path << " " << track;
      EXPECT_EQ(counts.snapshot.broadcasts_closed(), counts.snapshot.broadcasts()) << path << " " << track;
      auto [tier, role] = TrackTierRole(track);
      EXPECT_TRUE(SnapshotEq(counts.snapshot, model.Expected(key, tier, role))) << path << " " << track;
      EXPECT_TRUE(SnapshotEq(counts.snapshot, SnapshotOf(level, tier, role))) << path << " " << track;
    }
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(AllClosed(SnapshotOf(level, tier, role))) << key << " " << TierRoleName(tier, role);
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << key << " " << TierRoleName(tier, role);
      }
    }
  }
  // The publisher flag drops right after the broadcast ends (the publisher
  // unannounces first, then empties its slot): look again, bounded.
  for (const auto& [key, path] : broadcasts) {
    pb::Level level;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    do {
      ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
      if (!level.publishing()) break;
      absl::SleepFor(absl::Milliseconds(5));
    } while (absl::Now() < deadline);
    EXPECT_FALSE(level.publishing()) << key;
  }

  // The session is gone: a stream with its id starts afresh.
  pb::GetInfoResponse info;
  ASSERT_GRPC_OK(GetInfo(*stub, &info));
  EXPECT_EQ(info.counters().at("moq_stats_sessions_expired_total"), 1);
  EXPECT_EQ(info.counters().at("moq_stats_publishers_running"), 0);
  RelayStream again(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(again.Open("abandoned-relay", &welcome));
  EXPECT_FALSE(welcome.resumed());
  EXPECT_EQ(welcome.applied_sequence(), 0u);
  EXPECT_GRPC_OK(again.Close());
}

// Regression test; it once exposed this, now fixed: SessionStream::Process (server/session_stream.cc) ends the
// stream on "open sent twice on one stream" and on "empty request" with
// FinishLocked alone, without DetachLocked (every other way a stream ends
// detaches its session). The session stays attached to a stream that is
// gone: its grace period never starts, so if the relay does not come back
// the guards it held are never closed (phantom activity, against guarantee
// 2), and moq_stats_sessions_open stays up. Only another stream with the same
// id (a take-over) frees it.
class ProtocolErrorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ProtocolErrorTest, StreamEndedByAProtocolErrorStillStartsTheGracePeriod) {
  DaemonProcess daemon({"--grace=300ms"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("protocol-error-relay", nullptr));
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "proto/a", pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_SUBSCRIBER, {1, 0, 2, 0, 10, 1, 1});
  ASSERT_TRUE(relay.Send(batch));
  ASSERT_GRPC_OK(relay.WaitAck(1));

  pb::SessionRequest bad;
  if (GetParam() == "OpenTwice") bad.mutable_open()->set_session_id("protocol-error-relay");
  relay.Write(bad);  // else: an empty request
  grpc::Status ended = relay.WaitEnd();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(ended);

  // The relay is gone for good: within the grace period (plus margin) the
  // session expires and its guards are closed.
  EXPECT_TRUE(WaitForCounter(*stub, "moq_stats_sessions_expired_total", 1, absl::Seconds(5)));
  pb::GetInfoResponse info;
  ASSERT_GRPC_OK(GetInfo(*stub, &info));
  EXPECT_EQ(info.counters().at("moq_stats_sessions_open"), 0);
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "proto", &level));
  EXPECT_TRUE(AllClosed(level.external_subscriber()));
}

INSTANTIATE_TEST_SUITE_P(SessionIntegrationTest, ProtocolErrorTest, ::testing::Values("OpenTwice", "EmptyRequest"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace integration
}  // namespace moq_stats
