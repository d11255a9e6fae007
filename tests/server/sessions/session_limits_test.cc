// The session's limits (max_batch_entries, max_handles) and the aggregator's
// max_levels, as a session meets them.

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/simulated_time.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using ::moq_stats::test::SimulatedTime;
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectSessionRefused;
using test::kExt;
using test::kInterval;
using test::kPub;
using test::kPubRole;
using test::Snap;
using test::StatsFixture;

// ---------------------------------------------------------------------------
// Limits

TEST(SessionLimitsTest, ARefusedBatchDoesNotTakeLevelsFromTheNext) {
  // With max_levels = 3, session A's batch defining "a/b" is refused for a
  // later entry; its levels must not stay behind and take the room session
  // B's define of "c" needs.
  Origin origin;
  SimulatedTime time;
  StatsConfig config;
  config.levels = 2;
  config.max_levels = 3;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok()) << stats.status();
  Session a("a", "r", *stats, SessionLimits{});
  Session b("b", "r", *stats, SessionLimits{});
  ASSERT_EQ(ApplyTo(a, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).subscriptions_closed(1))).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status s = ApplyTo(b, BatchBuilder(1).Define(1, "c").Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_TRUE(s.ok()) << s;
  // Once retention has freed the refused batch's levels, there is room.
  time.Advance(config.retention + kInterval);
  s = ApplyTo(b, BatchBuilder(2).Define(1, "c").Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(SessionLimitsTest, BatchOverMaxBatchEntries) {
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_batch_entries = 4;
  Session session("s", "r", f.stats(), limits);
  // Defines + deltas + releases + open entries: exactly 4 fit.
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1)
                                   .Define(1, "a")
                                   .Define(2, "b")
                                   .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
                                   .Add(DeltaFor(2, kPubRole).bytes(1)))
                  .ok());
  ExpectSessionRefused(session, f.stats(),
                       BatchBuilder(2)
                           .Define(3, "c")
                           .Add(DeltaFor(1, kPubRole).bytes(1))
                           .Release(2)
                           .Release(3)
                           .Add(DeltaFor(3, kPubRole).bytes(1)),
                       absl::StatusCode::kResourceExhausted, RejectReason::kBatchSize,
                       {"5 entries", "max_batch_entries", "4"});
  EXPECT_TRUE(
      ApplyTo(session, BatchBuilder(3).Release(2).Add(DeltaFor(1, kPubRole).subscriptions_closed(1)).Release(1)).ok());
}

TEST(SessionLimitsTest, AResyncMayHoldFiveEntriesPerHandle) {
  // A resync states every live handle at once, so it is bounded by the
  // handles it may state (5 entries each), not by max_batch_entries.
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_batch_entries = 4;
  limits.max_handles = 2;
  Session session("s", "r", f.stats(), limits);
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1).Define(1, "a").Define(2, "b")).ok());
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(2)
                                   .Resync()
                                   .Define(1, "a")
                                   .Define(2, "b")
                                   .Open(1, kPubRole, 0, 1)
                                   .Open(2, kPubRole, 0, 1)
                                   .Add(DeltaFor(1, kPubRole).bytes(1))
                                   .Add(DeltaFor(2, kPubRole).bytes(1)))
                  .ok());
  BatchBuilder too_big(3);
  too_big.Resync().Define(1, "a").Define(2, "b").Open(1, kPubRole, 0, 1).Open(2, kPubRole, 0, 1);
  for (int i = 0; i < 7; ++i) too_big.Add(DeltaFor(1, kPubRole).bytes(1));
  ExpectSessionRefused(session, f.stats(), too_big, absl::StatusCode::kResourceExhausted, RejectReason::kBatchSize,
                       {"11 entries", "resync", "10"});
}

TEST(SessionLimitsTest, HandlesOverMaxHandles) {
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_handles = 3;
  Session session("s", "r", f.stats(), limits);
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1).Define(1, "a").Define(2, "b").Add(DeltaFor(1, kPubRole).bytes(1))).ok());
  // A repeated define takes no room; the fourth handle does not fit.
  ExpectSessionRefused(session, f.stats(),
                       BatchBuilder(2).Define(1, "a").Define(3, "c").Define(4, "d").Add(DeltaFor(3, kPubRole).bytes(1)),
                       absl::StatusCode::kResourceExhausted, RejectReason::kHandleLimit,
                       {"defines[2]", "handle 4", "max_handles", "3"});
  EXPECT_EQ(session.handle_count(), 2u);
  // Releases come after defines: releasing one in the same batch frees no
  // room for it.
  ExpectSessionRefused(session, f.stats(), BatchBuilder(3).Define(3, "c").Define(4, "d").Release(2),
                       absl::StatusCode::kResourceExhausted, RejectReason::kHandleLimit, {"defines[1]", "handle 4"});
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(4).Release(2)).ok());
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(5).Define(3, "c").Define(4, "d")).ok());
  EXPECT_EQ(session.handle_count(), 3u);
}

TEST(SessionLimitsTest, TheAggregatorsLevelLimit) {
  Origin origin;
  SimulatedTime time;
  StatsConfig config;
  config.levels = 2;
  config.max_levels = 3;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok()) << stats.status();
  Session session("s", "r", *stats, SessionLimits{});
  ASSERT_TRUE(
      ApplyTo(session, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).subscriptions_opened(1))).ok());
  EXPECT_EQ(stats->level_count(), 3u);
  // Another handle on levels that exist takes no room; "a/c" needs one more.
  ExpectSessionRefused(
      session, *stats, BatchBuilder(2).Define(2, "a/b").Define(3, "a/c").Add(DeltaFor(2, kPubRole).bytes(5)),
      absl::StatusCode::kResourceExhausted, RejectReason::kLevelLimit, {"defines[1]", "handle 3", "max_levels"});
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(3).Define(2, "a/b").Add(DeltaFor(2, kPubRole).bytes(5))).ok());
  EXPECT_EQ(stats->level(Path("a/b"))->snapshot(kExt, kPub), Snap(0, 0, 1, 0, 5));
  session.CloseAll();
}

}  // namespace
}  // namespace moq_stats::server
