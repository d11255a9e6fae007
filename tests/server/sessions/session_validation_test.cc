// The rules of the batch contract as Session::Apply checks them: the exact
// message and reason of each refusal, which rule names a batch that breaks
// several (sequence, batch size, defines, level limit, resync open entries,
// deltas, releases, in that order), and the level limit over batches of
// thousands of defines.

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/simulated_time.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using ::moq_stats::test::SimulatedTime;
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::kExtTier;
using test::kIntTier;
using test::kPubRole;
using test::kSubRole;
using test::SessionTest;

constexpr int kUnknownEnum = 7;

// "<reason> <CODE>: <message>" of a refused batch, or "applied" when the
// session accepted it.
std::string Refusal(Session& session, const pb::Batch& batch) {
  RejectReason why = RejectReason::kNone;
  absl::Status status = ApplyTo(session, batch, &why);
  if (status.ok()) return "applied";
  return absl::StrCat(std::string(RejectReasonName(why)), " ", status.ToString());
}

// An aggregator of `levels` levels, at most `max_levels` of them.
class LimitedStats {
 public:
  LimitedStats(uint32_t levels, uint64_t max_levels) {
    StatsConfig config;
    config.levels = levels;
    config.max_levels = max_levels;
    auto stats = Stats::Create(config, &origin_, &time_.scheduler(), &time_.clock());
    EXPECT_TRUE(stats.ok()) << stats.status();
    if (stats.ok()) stats_ = *stats;
  }
  const Stats& stats() const { return stats_; }

 private:
  Origin origin_;
  SimulatedTime time_;
  Stats stats_;
};

// Over a record with handle 1 ("a/b", external; as publisher 1 broadcast and
// 2 subscriptions open), handle 2 ("a/c", internal; as subscriber 1 broadcast
// and 1 subscription open) and handle 3 ("x", external; nothing open), at
// sequence 1.
class SessionValidationTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1)
                .Define(1, "a/b", kExtTier)
                .Define(2, "a/c", kIntTier)
                .Define(3, "x", kExtTier)
                .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2))
                .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(1)));
  }
  std::string Refused(const pb::Batch& batch) { return Refusal(session_, batch); }
};

// ---------------------------------------------------------------------------
// Each rule's message

TEST_F(SessionValidationTest, Sequence) {
  EXPECT_EQ(Refused(BatchBuilder(1)),
            "sequence OUT_OF_RANGE: batch sequence 1 is not above the last applied sequence 1");
}

TEST(SessionValidationLimitsTest, BatchSize) {
  test::StatsFixture f(2);
  SessionLimits limits;
  limits.max_batch_entries = 2;
  limits.max_handles = 1;
  Session session("s", "r", f.stats(), limits);
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "a").Define(2, "b").Release(1)),
            "batch_size RESOURCE_EXHAUSTED: batch 1 has 3 entries; the limit is 2 (max_batch_entries)");
  // A resync may hold 5 entries per handle of max_handles.
  BatchBuilder resync(1);
  resync.Resync().Define(1, "a");
  for (int i = 0; i < 5; ++i) resync.Add(DeltaFor(1, kPubRole).bytes(1));
  EXPECT_EQ(Refusal(session, resync),
            "batch_size RESOURCE_EXHAUSTED: batch 1 has 6 entries; the limit is 5 for a resync (5 per handle, "
            "max_handles)");
}

TEST_F(SessionValidationTest, Defines) {
  EXPECT_EQ(Refused(BatchBuilder(2).Define(4, "n").DefineWithTier(5, "m", kUnknownEnum)),
            "invalid_enum INVALID_ARGUMENT: defines[1] (handle 5): tier is unspecified or unknown (7)");
  EXPECT_EQ(Refused(BatchBuilder(2).Define(4, "\xC0\xAF")),
            "invalid_path INVALID_ARGUMENT: defines[0] (handle 4): path is not valid UTF-8");
  EXPECT_EQ(Refused(BatchBuilder(2).Define(1, "a/b").Define(2, "a/c", kExtTier)),
            "redefined FAILED_PRECONDITION: defines[1]: handle 2 is already defined as \"a/c\" (internal); it "
            "cannot be redefined as \"a/c\" (external)");
  // Within one batch too.
  EXPECT_EQ(Refused(BatchBuilder(2).Define(4, "n").Define(4, "m")),
            "redefined FAILED_PRECONDITION: defines[1]: handle 4 is already defined as \"n\" (external); it "
            "cannot be redefined as \"m\" (external)");
}

TEST(SessionValidationLimitsTest, HandleLimit) {
  test::StatsFixture f(2);
  SessionLimits limits;
  limits.max_handles = 2;
  Session session("s", "r", f.stats(), limits);
  // A define repeated takes no room.
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "a").Define(1, "a").Define(2, "b").Define(3, "c")),
            "handle_limit RESOURCE_EXHAUSTED: defines[3] (handle 3): the session would hold more than 2 handles "
            "(max_handles)");
}

TEST_F(SessionValidationTest, ResyncOpenEntries) {
  EXPECT_EQ(Refused(BatchBuilder(2).Open(2, kPubRole, 1, 1)),
            "invalid_enum INVALID_ARGUMENT: open[0] (handle 2): open entries are only allowed with resync set");
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().Open(1, kPubRole, 1, 2).Open(2, pb::ROLE_UNSPECIFIED, 1, 1)),
            "invalid_enum INVALID_ARGUMENT: open[1] (handle 2): role is unspecified or unknown (0)");
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().Open(1, kPubRole, 1, 2).Open(9, kPubRole, 1, 1)),
            "unknown_handle INVALID_ARGUMENT: open[1]: unknown handle 9");
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().Open(1, kPubRole, 1, 2).Open(1, kPubRole, 0, 0)),
            "duplicate INVALID_ARGUMENT: open[1]: handle 1 role publisher is listed twice");
  // With release_unlisted, only the handles the batch defines may be named.
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().ReleaseUnlisted().Define(2, "a/c", kIntTier).Open(1, kPubRole, 1, 2)),
            "unknown_handle INVALID_ARGUMENT: open[0]: unknown handle 1");
}

TEST_F(SessionValidationTest, Deltas) {
  EXPECT_EQ(Refused(BatchBuilder(2).Add(DeltaFor(3, kPubRole).bytes(1)).Add(DeltaFor(1, kUnknownEnum))),
            "invalid_enum INVALID_ARGUMENT: deltas[1] (handle 1): role is unspecified or unknown (7)");
  EXPECT_EQ(Refused(BatchBuilder(2).Add(DeltaFor(9, kPubRole).bytes(1))),
            "unknown_handle INVALID_ARGUMENT: deltas[0]: unknown handle 9");
  EXPECT_EQ(Refused(BatchBuilder(2).Add(
                DeltaFor(1, kPubRole).subscriptions_opened(std::numeric_limits<uint64_t>::max() - 1))),
            "over_close INVALID_ARGUMENT: deltas[0] (handle 1, publisher): opening 18446744073709551614 more "
            "subscription guards overflows the count");
  EXPECT_EQ(Refused(BatchBuilder(2)
                        .Add(DeltaFor(1, kPubRole).broadcasts_closed(1))
                        .Add(DeltaFor(1, kPubRole).subscriptions_opened(1).subscriptions_closed(4))),
            "over_close INVALID_ARGUMENT: deltas[1] (handle 1, publisher): closes 4 subscription guards but only 3 "
            "are open");
  // After a resync, what is open is what the resync says.
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().Open(2, kSubRole, 2, 0).Add(DeltaFor(2, kSubRole).broadcasts_closed(3))),
            "over_close INVALID_ARGUMENT: deltas[0] (handle 2, subscriber): closes 3 broadcast guards but only 2 "
            "are open");
}

TEST_F(SessionValidationTest, Releases) {
  EXPECT_EQ(Refused(BatchBuilder(2).Release(3).Release(9)),
            "unknown_handle INVALID_ARGUMENT: releases[1]: unknown handle 9");
  EXPECT_EQ(Refused(BatchBuilder(2).Release(3).Release(3)),
            "duplicate INVALID_ARGUMENT: releases[1]: handle 3 is released twice");
  EXPECT_EQ(Refused(BatchBuilder(2).Release(3).Release(1)),
            "release_open INVALID_ARGUMENT: releases[1]: handle 1 still has 1 broadcast, 2 subscription and 0 "
            "announce guards open as publisher");
  EXPECT_EQ(Refused(BatchBuilder(2).Add(DeltaFor(2, kSubRole).broadcasts_closed(1)).Release(2)),
            "release_open INVALID_ARGUMENT: releases[0]: handle 2 still has 0 broadcast, 1 subscription and 0 "
            "announce guards open as subscriber");
}

// ---------------------------------------------------------------------------
// Which rule names a batch that breaks several

TEST_F(SessionValidationTest, TheFirstRuleBrokenNamesTheBatch) {
  // Sequence before everything.
  EXPECT_EQ(Refused(BatchBuilder(1).DefineWithTier(4, "n", kUnknownEnum).Add(DeltaFor(9, kPubRole))),
            "sequence OUT_OF_RANGE: batch sequence 1 is not above the last applied sequence 1");
  // Defines in their order, each checked for its tier, then its path, then a
  // redefinition.
  EXPECT_EQ(Refused(BatchBuilder(2).Define(1, "z").DefineWithTier(4, "\xC0\xAF", kUnknownEnum)),
            "redefined FAILED_PRECONDITION: defines[0]: handle 1 is already defined as \"a/b\" (external); it "
            "cannot be redefined as \"z\" (external)");
  EXPECT_EQ(Refused(BatchBuilder(2).DefineWithTier(4, "\xC0\xAF", kUnknownEnum)),
            "invalid_enum INVALID_ARGUMENT: defines[0] (handle 4): tier is unspecified or unknown (7)");
  EXPECT_EQ(Refused(BatchBuilder(2).Define(1, "\xC0\xAF")),
            "invalid_path INVALID_ARGUMENT: defines[0] (handle 1): path is not valid UTF-8");
  // Defines before open entries, open entries before deltas, deltas before
  // releases.
  EXPECT_EQ(
      Refused(BatchBuilder(2).Define(1, "z").Open(9, kPubRole, 0, 0).Add(DeltaFor(9, kPubRole).bytes(1)).Release(9)),
      "redefined FAILED_PRECONDITION: defines[0]: handle 1 is already defined as \"a/b\" (external); it "
      "cannot be redefined as \"z\" (external)");
  EXPECT_EQ(Refused(BatchBuilder(2).Open(9, kPubRole, 0, 0).Add(DeltaFor(9, kPubRole).bytes(1)).Release(9)),
            "invalid_enum INVALID_ARGUMENT: open[0] (handle 9): open entries are only allowed with resync set");
  EXPECT_EQ(Refused(BatchBuilder(2).Add(DeltaFor(8, kPubRole).bytes(1)).Release(9)),
            "unknown_handle INVALID_ARGUMENT: deltas[0]: unknown handle 8");
  // Within an entry: the role before the handle; an unknown release before a
  // repeated one.
  EXPECT_EQ(Refused(BatchBuilder(2).Add(DeltaFor(9, kUnknownEnum).bytes(1))),
            "invalid_enum INVALID_ARGUMENT: deltas[0] (handle 9): role is unspecified or unknown (7)");
  EXPECT_EQ(Refused(BatchBuilder(2).Resync().Open(9, pb::ROLE_UNSPECIFIED, 0, 0)),
            "invalid_enum INVALID_ARGUMENT: open[0] (handle 9): role is unspecified or unknown (0)");
  EXPECT_EQ(Refused(BatchBuilder(2).Release(9).Release(9)),
            "unknown_handle INVALID_ARGUMENT: releases[0]: unknown handle 9");
  // The batch size before the sequence-independent rules.
  SessionLimits limits;
  limits.max_batch_entries = 1;
  Session small("small", "r", f_.stats(), limits);
  EXPECT_EQ(Refusal(small, BatchBuilder(1).DefineWithTier(1, "n", kUnknownEnum).Release(9)),
            "batch_size RESOURCE_EXHAUSTED: batch 1 has 2 entries; the limit is 1 (max_batch_entries)");
}

TEST(SessionValidationLimitsTest, EveryDefineIsCheckedBeforeTheLevelLimit) {
  LimitedStats limited(1, 2);  // room for "" and one more
  SessionLimits limits;
  limits.max_handles = 3;
  Session session("s", "r", limited.stats(), limits);
  // defines[1] does not fit in the levels, but defines[2] is bad itself.
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "a").Define(2, "b").DefineWithTier(3, "c", kUnknownEnum)),
            "invalid_enum INVALID_ARGUMENT: defines[2] (handle 3): tier is unspecified or unknown (7)");
  // And the handle limit is one of those checks.
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "a").Define(2, "b").Define(3, "c").Define(4, "d")),
            "handle_limit RESOURCE_EXHAUSTED: defines[3] (handle 4): the session would hold more than 3 handles "
            "(max_handles)");
  // The level limit comes before the open entries, deltas and releases.
  EXPECT_EQ(Refusal(session, BatchBuilder(1)
                                 .Define(1, "a")
                                 .Define(2, "b")
                                 .Open(9, kPubRole, 0, 0)
                                 .Add(DeltaFor(9, kPubRole).bytes(1))
                                 .Release(9)),
            "level_limit RESOURCE_EXHAUSTED: defines[1] (handle 2): the sidecar holds 0 levels (0 more promised); "
            "the limit max_levels=2 leaves no room for 3 more");
}

// ---------------------------------------------------------------------------
// The level limit: the first define that does not fit is named, with what
// the aggregator holds, has promised and would need up to that define.

TEST(SessionValidationLevelsTest, NamesTheFirstDefineThatDoesNotFit) {
  LimitedStats limited(2, 6);
  Session session("s", "r", limited.stats(), SessionLimits{});
  ASSERT_EQ(Refusal(session, BatchBuilder(1).Define(1, "a/b")), "applied");  // "", "a", "a/b"
  // Another batch being checked holds room for one level.
  auto promised = limited.stats().ReserveLevels({Path("r")});
  ASSERT_TRUE(promised.ok()) << promised.status();

  EXPECT_EQ(Refusal(session, BatchBuilder(2)
                                 .Define(1, "a/b")         // defined already: no new level
                                 .Define(2, "a/c")         // "a/c": 1
                                 .Define(3, "a/c")         // its levels are counted once: 1
                                 .Define(4, "a/c/d")       // deeper than 2 levels: 1
                                 .Define(5, ".stats/own")  // under the stats prefix: 1
                                 .Define(6, "b")           // "b": 2, which fits
                                 .Define(7, "b/x")         // "b/x": 3
                                 .Define(8, "c")),         // "c": 4
            "level_limit RESOURCE_EXHAUSTED: defines[6] (handle 7): the sidecar holds 3 levels (1 more promised); "
            "the limit max_levels=6 leaves no room for 3 more");
  // Without the promise there is room up to "b/x".
  promised = Stats::LevelReservation();
  EXPECT_EQ(Refusal(session, BatchBuilder(2).Define(2, "a/c").Define(6, "b").Define(7, "b/x").Define(8, "c")),
            "level_limit RESOURCE_EXHAUSTED: defines[3] (handle 8): the sidecar holds 3 levels (0 more promised); "
            "the limit max_levels=6 leaves no room for 4 more");
  EXPECT_EQ(Refusal(session, BatchBuilder(2).Define(2, "a/c").Define(6, "b").Define(7, "b/x")), "applied");
  EXPECT_EQ(limited.stats().level_count(), 6u);
  session.CloseAll();
}

TEST(SessionValidationLevelsTest, AnAggregatorOverItsLimitHasNoRoomForAnyNewLevel) {
  // Guards opened in-process take their levels whatever max_levels says.
  LimitedStats limited(2, 2);
  BroadcastStats held = limited.stats().tier(Tier::kExternal).broadcast("z/y");
  ASSERT_EQ(limited.stats().level_count(), 3u);
  Session session("s", "r", limited.stats(), SessionLimits{});
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "z/y").Define(2, "z").Define(3, "q").Define(4, "z/x")),
            "level_limit RESOURCE_EXHAUSTED: defines[2] (handle 3): the sidecar holds 3 levels (0 more promised); "
            "the limit max_levels=2 leaves no room for 1 more");
  EXPECT_EQ(Refusal(session, BatchBuilder(1).Define(1, "z/y").Define(2, "z")), "applied");
  session.CloseAll();
}

// A batch of `count` defines of new paths "p0", "p1", ..., each needing one
// new level over an aggregator of one level.
pb::Batch ManyNewPaths(uint64_t sequence, int count) {
  BatchBuilder batch(sequence);
  for (int i = 0; i < count; ++i) batch.Define(static_cast<uint32_t>(i + 1), absl::StrCat("p", i));
  return batch;
}

TEST(SessionValidationLevelsTest, ABatchOfManyDefinesAtTheLimitNamesItsLastDefine) {
  // The whole batch is over the limit by its last define: the worst case for
  // finding the first define that does not fit. It is found in one pass over
  // the defines' level keys (see ReserveLevelsForDefines).
  constexpr int kDefines = 4096;
  LimitedStats limited(1, kDefines + 1);
  BroadcastStats other = limited.stats().tier(Tier::kExternal).broadcast("q");  // "" and "q"
  Session session("s", "r", limited.stats(), SessionLimits{});
  ASSERT_EQ(SessionLimits{}.max_batch_entries, static_cast<uint32_t>(kDefines));
  EXPECT_EQ(Refusal(session, ManyNewPaths(1, kDefines)),
            "level_limit RESOURCE_EXHAUSTED: defines[4095] (handle 4096): the sidecar holds 2 levels (0 more "
            "promised); the limit max_levels=4097 leaves no room for 4096 more");
  // The refusal kept no room back: all but the last define fit exactly.
  EXPECT_EQ(limited.stats().level_count(), 2u);
  EXPECT_EQ(Refusal(session, ManyNewPaths(1, kDefines - 1)), "applied");
  EXPECT_EQ(limited.stats().level_count(), static_cast<size_t>(kDefines + 1));
  session.CloseAll();
}

TEST(SessionValidationLevelsTest, ABatchOfManyDefinesNamesTheFirstThatDoesNotFit) {
  constexpr int kDefines = 4096;
  LimitedStats limited(1, 2050);
  BroadcastStats other = limited.stats().tier(Tier::kExternal).broadcast("q");
  Session session("s", "r", limited.stats(), SessionLimits{});
  EXPECT_EQ(Refusal(session, ManyNewPaths(1, kDefines)),
            "level_limit RESOURCE_EXHAUSTED: defines[2048] (handle 2049): the sidecar holds 2 levels (0 more "
            "promised); the limit max_levels=2050 leaves no room for 2049 more");
}

}  // namespace
}  // namespace moq_stats::server
