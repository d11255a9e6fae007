// A relay session's record in the sidecar, driven directly: batches land on
// the right levels, tier and role with exact counts, and CloseAll closes
// exactly what is open.

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::AllCounts;
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::Flat;
using test::kExt;
using test::kExtTier;
using test::kInt;
using test::kInterval;
using test::kIntTier;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::SessionTest;
using test::Snap;

// ---------------------------------------------------------------------------
// Batches that apply

TEST_F(SessionTest, StartsEmpty) {
  EXPECT_EQ(session_.id(), "session-1");
  EXPECT_EQ(session_.relay(), "relay-a");
  EXPECT_EQ(session_.applied_sequence(), 0u);
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
}

TEST_F(SessionTest, DefinesAndDeltasLandOnTheirLevelsTierAndRole) {
  RejectReason reason = RejectReason::kSequence;
  size_t deltas = 0;
  absl::Status s = session_.Apply(
      BatchBuilder(1)
          .Define(1, "a/b", kExtTier)
          .Define(2, "a/c/d", kIntTier)
          .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(1000).frames(10).groups(2))
          .Add(DeltaFor(1, kSubRole).broadcasts_opened(3).subscriptions_opened(4).bytes(7).frames(1).groups(1))
          .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(50).frames(5).groups(5)),
      &reason, &deltas);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(reason, RejectReason::kNone);
  EXPECT_EQ(deltas, 3u);
  EXPECT_EQ(session_.applied_sequence(), 1u);
  EXPECT_EQ(session_.handle_count(), 2u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 2, 4, 5}));

  // levels = 2: "", "a", "a/b" for the first handle; "", "a", "a/c" for the
  // second (its deeper segment is truncated).
  for (const char* key : {"", "a", "a/b"}) {
    EXPECT_EQ(Read(key, kExt, kPub), Snap(1, 0, 2, 0, 1000, 10, 2)) << key;
    EXPECT_EQ(Read(key, kExt, kSub), Snap(3, 0, 4, 0, 7, 1, 1)) << key;
  }
  for (const char* key : {"", "a", "a/c"}) {
    EXPECT_EQ(Read(key, kInt, kSub), Snap(1, 0, 1, 0, 50, 5, 5)) << key;
    EXPECT_EQ(Read(key, kInt, kPub), Counts{}) << key;
  }
  EXPECT_EQ(Read("a/b", kInt, kPub), Counts{});
  EXPECT_EQ(Read("a/b", kInt, kSub), Counts{});
  EXPECT_EQ(Read("a/c", kExt, kPub), Counts{});
  EXPECT_EQ(Read("a/c", kExt, kSub), Counts{});
  EXPECT_FALSE(f_.stats().level(Path("a/c/d")));
  EXPECT_EQ(f_.stats().level_count(), 4u);
}

TEST_F(SessionTest, SeveralDeltasForOneHandleAddUp) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Add(DeltaFor(1, kPubRole).bytes(100).frames(1))
              .Add(DeltaFor(1, kPubRole).bytes(250).frames(2).groups(1))
              .Add(DeltaFor(1, kPubRole).subscriptions_opened(2))
              .Add(DeltaFor(1, kPubRole).subscriptions_closed(1)));
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1).frames(1).groups(1).subscriptions_closed(1)));
  for (const char* key : {"", "a", "a/b"}) EXPECT_EQ(Read(key, kExt, kPub), Snap(0, 0, 2, 2, 351, 4, 2)) << key;
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
}

TEST_F(SessionTest, TheSameDefineRepeatedIsAccepted) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b", kIntTier).Add(DeltaFor(1, kPubRole).broadcasts_opened(1)));
  // Again in a later batch, twice in one batch, and spelled unnormalised.
  ApplyOk(BatchBuilder(2)
              .Define(1, "a/b", kIntTier)
              .Define(1, "//a//b/", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1)));
  EXPECT_EQ(session_.handle_count(), 1u);
  EXPECT_EQ(Read("a/b", kInt, kPub), Snap(1, 1, 0, 0));
  // A handle defined twice in its first batch is defined once.
  ApplyOk(BatchBuilder(3).Define(2, "x", kExtTier).Define(2, "x", kExtTier).Add(DeltaFor(2, kSubRole).bytes(5)));
  EXPECT_EQ(session_.handle_count(), 2u);
  EXPECT_EQ(Read("x", kExt, kSub).bytes, 5u);
}

TEST_F(SessionTest, TwoHandlesOnOnePathShareItsLevels) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/b")
              .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
              .Add(DeltaFor(2, kPubRole).subscriptions_opened(2)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(0, 0, 3, 0));
  // Each handle keeps its own open guards: handle 1 cannot close handle 2's.
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).subscriptions_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1"});
}

TEST_F(SessionTest, SequenceMustIncreaseGapsAllowed) {
  // 0 is not above the 0 of a new session.
  ExpectRefused(BatchBuilder(0), absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"0"});
  ApplyOk(BatchBuilder(1).Define(1, "a").Add(DeltaFor(1, kPubRole).bytes(1)));
  // Equal.
  ExpectRefused(BatchBuilder(1).Add(DeltaFor(1, kPubRole).bytes(10)), absl::StatusCode::kOutOfRange,
                RejectReason::kSequence, {"sequence 1"});
  // A gap.
  ApplyOk(BatchBuilder(5).Add(DeltaFor(1, kPubRole).bytes(2)));
  EXPECT_EQ(session_.applied_sequence(), 5u);
  // Lower.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(10)), absl::StatusCode::kOutOfRange,
                RejectReason::kSequence, {"sequence 4", "5"});
  ExpectRefused(BatchBuilder(5), absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"sequence 5"});
  ApplyOk(BatchBuilder(6).Add(DeltaFor(1, kPubRole).bytes(4)));
  ApplyOk(BatchBuilder(std::numeric_limits<uint64_t>::max()).Add(DeltaFor(1, kPubRole).bytes(8)));
  EXPECT_EQ(Read("a", kExt, kPub).bytes, 15u);
  // Nothing is above the highest sequence.
  EXPECT_EQ(ApplyTo(session_, BatchBuilder(std::numeric_limits<uint64_t>::max())).code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(SessionTest, AnEmptyBatchOnlyMovesTheSequence) {
  ApplyOk(BatchBuilder(3));
  EXPECT_EQ(session_.applied_sequence(), 3u);
  EXPECT_EQ(f_.stats().level_count(), 0u);
}

TEST_F(SessionTest, ReleasesForgetHandlesAndFreeTheirNumbers) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Define(2, "a/c").Add(
      DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1)));
  EXPECT_EQ(session_.handle_count(), 2u);
  // Guards closed by the deltas of the same batch: releases come after.
  ApplyOk(
      BatchBuilder(2).Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(1)).Release(1).Release(2));
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
  // Released: unknown now.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, kSubRole).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kUnknownHandle, {"deltas[0]", "handle 1"});
  // And the number may be defined again, with another path and tier.
  ApplyOk(BatchBuilder(4).Define(1, "z", kIntTier).Add(DeltaFor(1, kPubRole).bytes(9)));
  EXPECT_EQ(Read("z", kInt, kPub).bytes, 9u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
}

TEST_F(SessionTest, DefineUseAndReleaseInOneBatch) {
  ApplyOk(BatchBuilder(1)
              .Define(7, "q/r")
              .Add(DeltaFor(7, kPubRole).broadcasts_opened(1).broadcasts_closed(1).bytes(3))
              .Release(7));
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Read("q/r", kExt, kPub), Snap(1, 1, 0, 0, 3));
}

TEST_F(SessionTest, PathsAtTheLimitsAreAccepted) {
  std::string long_path = "a/" + std::string(kMaxPathBytes - 2, 'x');
  ASSERT_EQ(long_path.size(), 1024u);
  std::string many;
  for (size_t i = 0; i < kMaxPathSegments; ++i) absl::StrAppend(&many, i == 0 ? "" : "/", "s", i);
  ApplyOk(BatchBuilder(1)
              .Define(1, long_path)
              .Define(2, many)
              .Define(3, "caf\xc3\xa9/\xe2\x82\xac")  // "café/€"
              .Add(DeltaFor(1, kPubRole).bytes(1))
              .Add(DeltaFor(2, kPubRole).bytes(2))
              .Add(DeltaFor(3, kPubRole).bytes(4)));
  EXPECT_EQ(Read(long_path, kExt, kPub).bytes, 1u);
  EXPECT_EQ(Read("s0/s1", kExt, kPub).bytes, 2u);
  EXPECT_EQ(Read("caf\xc3\xa9/\xe2\x82\xac", kExt, kPub).bytes, 4u);
  EXPECT_EQ(Read("", kExt, kPub).bytes, 7u);
}

TEST_F(SessionTest, PathsUnderTheStatsPrefixCountNothing) {
  ApplyOk(BatchBuilder(1).Define(1, ".stats/prefix/a").Add(DeltaFor(1, kSubRole).subscriptions_opened(1).bytes(5)));
  EXPECT_EQ(f_.stats().level_count(), 0u);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
}

TEST_F(SessionTest, OpeningSubscriptionsStartsTheLevelPublishers) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).broadcasts_opened(1).bytes(10)));
  // A broadcast guard never starts a publisher.
  EXPECT_EQ(f_.stats().running_publishers(), 0);
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kSubRole).subscriptions_opened(1)));
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // "", "a", "a/b"
  for (const char* key : {"", "a", "a/b"}) EXPECT_TRUE(f_.stats().level(Path(key))->publisher_running()) << key;
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 3);
  ApplyOk(BatchBuilder(3).Add(DeltaFor(1, kSubRole).subscriptions_closed(1)));
  // The closing counts, then one interval of linger before the end.
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 3);
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
}

TEST_F(SessionTest, ChurnOfHandlesKeepsEveryDeltaOnItsHandle) {
  // Many defines and releases leave the handle table with erased slots; the
  // deltas of a batch that also defines new handles must still land on the
  // handles they name.
  ApplyOk(BatchBuilder(1).Define(1, "keep").Add(DeltaFor(1, kPubRole).subscriptions_opened(1)));
  constexpr uint32_t kRounds = 300;
  constexpr uint32_t kPerRound = 8;
  uint64_t sequence = 2;
  for (uint32_t round = 0; round < kRounds; ++round) {
    BatchBuilder batch(sequence++);
    const uint32_t base = 1000 + round * kPerRound;
    for (uint32_t k = 0; k < kPerRound; ++k) batch.Define(base + k, absl::StrCat("churn/", k));
    batch.Add(DeltaFor(1, kPubRole).bytes(1));
    for (uint32_t k = 0; k < kPerRound; ++k) batch.Add(DeltaFor(base + k, kSubRole).bytes(1).frames(1));
    if (round > 0) {
      for (uint32_t k = 0; k < kPerRound; ++k) batch.Release(base - kPerRound + k);
    }
    ApplyOk(batch);
    ASSERT_EQ(session_.handle_count(), 1 + kPerRound) << "round " << round;
  }
  EXPECT_EQ(Read("keep", kExt, kPub), Snap(0, 0, 1, 0, kRounds));
  EXPECT_EQ(Read("churn", kExt, kSub), Snap(0, 0, 0, 0, kRounds * kPerRound, kRounds * kPerRound));
  for (uint32_t k = 0; k < kPerRound; ++k) {
    EXPECT_EQ(Read(absl::StrCat("churn/", k), kExt, kSub).bytes, kRounds) << k;
  }
}

// ---------------------------------------------------------------------------
// CloseAll

TEST_F(SessionTest, CloseAllClosesExactlyWhatIsOpenAndReleasesHandles) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/c", kIntTier)
              .Define(3, "d")
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(2).subscriptions_opened(3).bytes(10))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1))
              .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(4).frames(2)));
  ApplyOk(BatchBuilder(2)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1).subscriptions_closed(2))
              .Add(DeltaFor(2, kSubRole).subscriptions_closed(1)));
  session_.CloseAll();
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  ExpectAllClosed(f_.stats());
  // Exactly what was open: counts of opens and sums unchanged.
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 2, 3, 3, 10));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(1, 1, 4, 4, 0, 2));
  EXPECT_EQ(Read("", kExt, kPub), Snap(2, 2, 3, 3, 10));
  // A second CloseAll has nothing left to close.
  auto before = AllCounts(f_.stats());
  session_.CloseAll();
  EXPECT_EQ(AllCounts(f_.stats()), before);
  // The publishers stop on their next tick.
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
  // The handles are gone; the sequence stays.
  EXPECT_EQ(session_.applied_sequence(), 2u);
  EXPECT_EQ(ApplyTo(session_, BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1))).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moq_stats::server
