// Every bad batch is refused whole, with the status, message and reason
// stats.proto promises.

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

namespace pb = ::moq::stats::v1;
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::kExt;
using test::kExtTier;
using test::kInt;
using test::kIntTier;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::SessionTest;
using test::Snap;

// ---------------------------------------------------------------------------
// Refused batches: every case of stats.proto's Batch comment.

// Over a record with handle 1 ("a/b", external; as publisher 1 broadcast and
// 2 subscriptions open), handle 2 ("a/c", internal; as subscriber 1 broadcast
// and 1 subscription open) and handle 3 ("x", external; nothing open).
class SessionRefusalTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1)
                .Define(1, "a/b", kExtTier)
                .Define(2, "a/c", kIntTier)
                .Define(3, "x", kExtTier)
                .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100).frames(4).groups(1))
                .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(50)));
  }
};

TEST_F(SessionRefusalTest, UnknownHandle) {
  ExpectRefused(BatchBuilder(2)
                    .Add(DeltaFor(1, kPubRole).bytes(1))
                    .Add(DeltaFor(2, kSubRole).bytes(1))
                    .Add(DeltaFor(99, kPubRole).bytes(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle, {"deltas[2]", "99"});
}

TEST_F(SessionRefusalTest, HandleRedefinedWithAnotherPath) {
  ExpectRefused(BatchBuilder(2).Define(1, "a/x", kExtTier).Add(DeltaFor(1, kPubRole).bytes(1)),
                absl::StatusCode::kFailedPrecondition, RejectReason::kRedefined, {"defines[0]", "handle 1", "a/x"});
}

TEST_F(SessionRefusalTest, HandleRedefinedWithAnotherTier) {
  ExpectRefused(BatchBuilder(2).Define(4, "y").Define(1, "a/b", kIntTier).Add(DeltaFor(4, kPubRole).bytes(1)),
                absl::StatusCode::kFailedPrecondition, RejectReason::kRedefined, {"defines[1]", "handle 1"});
}

TEST_F(SessionRefusalTest, HandleDefinedTwoWaysInOneBatch) {
  ExpectRefused(BatchBuilder(2).Define(4, "q").Define(4, "r"), absl::StatusCode::kFailedPrecondition,
                RejectReason::kRedefined, {"defines[1]", "handle 4"});
}

TEST_F(SessionRefusalTest, PathNotUtf8) {
  ExpectRefused(BatchBuilder(2).Define(5, "a/\xff\xfe"), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 5", "UTF-8"});
  // Overlong form of '/'.
  const std::string overlong = std::string("a\xc0\xaf") + "b";
  ExpectRefused(BatchBuilder(3).Define(6, overlong), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 6"});
}

TEST_F(SessionRefusalTest, PathOver1024Bytes) {
  std::string path = "a/" + std::string(kMaxPathBytes - 1, 'x');
  ASSERT_EQ(path.size(), 1025u);
  ExpectRefused(BatchBuilder(2).Define(4, "ok").Define(5, path), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidPath, {"defines[1]", "handle 5", "1024"});
}

TEST_F(SessionRefusalTest, PathOver32Segments) {
  std::string path;
  for (size_t i = 0; i <= kMaxPathSegments; ++i) absl::StrAppend(&path, "s", i, "/");
  ExpectRefused(BatchBuilder(2).Define(5, path), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 5", "33"});
}

TEST_F(SessionRefusalTest, TierUnspecifiedOrUnknown) {
  ExpectRefused(BatchBuilder(2).Define(5, "y", pb::TIER_UNSPECIFIED), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"defines[0]", "handle 5", "tier"});
  ExpectRefused(BatchBuilder(3).Define(4, "y").DefineWithTier(5, "y", 7), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"defines[1]", "handle 5", "tier"});
}

TEST_F(SessionRefusalTest, RoleUnspecifiedOrUnknown) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)).Add(DeltaFor(2, pb::ROLE_UNSPECIFIED).bytes(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum, {"deltas[1]", "handle 2", "role"});
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, 3).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"deltas[0]", "handle 1", "role"});
}

TEST_F(SessionRefusalTest, ClosingMoreBroadcastGuardsThanOpen) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).broadcasts_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1", "broadcast"});
  // Guards are per role: handle 1 has none open as subscriber.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, kSubRole).broadcasts_closed(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1", "broadcast"});
  // And a handle with none at all.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(3, kPubRole).broadcasts_closed(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 3"});
}

TEST_F(SessionRefusalTest, ClosingMoreSubscriptionGuardsThanOpen) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(2, kSubRole).subscriptions_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 2", "subscription"});
  // Over two deltas of one batch: 2 open, then 2 closed, then 1 more.
  ExpectRefused(BatchBuilder(3)
                    .Add(DeltaFor(1, kPubRole).subscriptions_closed(2))
                    .Add(DeltaFor(1, kPubRole).subscriptions_closed(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose,
                {"deltas[1]", "handle 1", "subscription"});
  // Opens of the same delta count before its closes: 2 open + 1 opened - 3
  // closed is fine, 2 + 1 - 4 is not.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_opened(1).subscriptions_closed(4)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 1"});
  ApplyOk(BatchBuilder(5).Add(DeltaFor(1, kPubRole).subscriptions_opened(1).subscriptions_closed(3)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 3, 3, 100, 4, 1));
}

TEST_F(SessionRefusalTest, ReleaseOfAHandleWithOpenGuards) {
  ExpectRefused(BatchBuilder(2).Release(3).Release(1), absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen,
                {"releases[1]", "handle 1"});
  // Still open after the batch's deltas.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(2, kSubRole).subscriptions_closed(1)).Release(2),
                absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen, {"releases[0]", "handle 2"});
}

TEST_F(SessionRefusalTest, ReleaseOfAnUnknownHandle) {
  ExpectRefused(BatchBuilder(2).Release(99), absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle,
                {"releases[0]", "99"});
}

TEST_F(SessionRefusalTest, DuplicateRelease) {
  ExpectRefused(BatchBuilder(2).Release(3).Release(3), absl::StatusCode::kInvalidArgument, RejectReason::kDuplicate,
                {"releases[1]", "handle 3"});
}

TEST_F(SessionRefusalTest, OpenEntriesWithoutResync) {
  // The message names the entry and its handle, as for every other refusal.
  ExpectRefused(BatchBuilder(2).Open(1, kPubRole, 1, 2), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum,
                {"open[0]", "handle 1", "resync"});
}

TEST_F(SessionRefusalTest, OpenedCountsThatOverflow) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // Handle 1 has 2 subscriptions open as publisher: 2 + (max - 1) overflows.
  ExpectRefused(
      BatchBuilder(2).Add(DeltaFor(3, kPubRole).bytes(1)).Add(DeltaFor(1, kPubRole).subscriptions_opened(kMax - 1)),
      absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[1]", "handle 1", "overflow"});
  // Over two deltas: max opens fit on a handle with none, one more does not.
  ExpectRefused(BatchBuilder(3)
                    .Add(DeltaFor(3, kSubRole).broadcasts_opened(kMax))
                    .Add(DeltaFor(3, kSubRole).broadcasts_opened(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[1]", "handle 3", "overflow"});
}

TEST_F(SessionRefusalTest, ResyncEntriesNameTheirEntry) {
  ExpectRefused(BatchBuilder(2).Resync().Open(1, kPubRole, 1, 2).Open(99, kPubRole, 0, 1),
                absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle, {"open[1]", "99"});
  ExpectRefused(BatchBuilder(3).Resync().Open(1, pb::ROLE_UNSPECIFIED, 1, 2), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"open[0]", "handle 1", "role"});
  ExpectRefused(BatchBuilder(4).Resync().Open(1, kPubRole, 1, 2).Open(1, kPubRole, 1, 1),
                absl::StatusCode::kInvalidArgument, RejectReason::kDuplicate, {"open[1]", "handle 1"});
}

TEST_F(SessionRefusalTest, ALaterBadEntryAppliesNothingOfTheEarlierOnes) {
  // A new handle, bytes and opens, then an over-close: none of it applies.
  ExpectRefused(BatchBuilder(2)
                    .Define(4, "n/m", kIntTier)
                    .Add(DeltaFor(1, kPubRole).bytes(1000).frames(10).groups(3).subscriptions_closed(1))
                    .Add(DeltaFor(4, kSubRole).broadcasts_opened(1).subscriptions_opened(5))
                    .Add(DeltaFor(2, kSubRole).broadcasts_closed(1))
                    .Add(DeltaFor(2, kSubRole).broadcasts_closed(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[3]", "handle 2"});
  EXPECT_EQ(f_.stats().running_publishers(), 3 + 1);  // the base record's ("", "a", "a/b", "a/c")
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 0, 100, 4, 1));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(1, 0, 1, 0, 50));
  EXPECT_EQ(f_.stats().level(Path("n/m")) ? f_.stats().level(Path("n/m"))->snapshot(kInt, kSub) : Counts{}, Counts{});
  // The define was not applied either: handle 4 is unknown.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(4, kSubRole).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kUnknownHandle, {"deltas[0]", "handle 4"});
  // Valid deltas, then a bad release.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(7)).Release(3).Release(1),
                absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen, {"releases[1]", "handle 1"});
  EXPECT_EQ(session_.handle_count(), 3u);
}

TEST_F(SessionRefusalTest, ARefusedDefineLeavesNoLevelBehind) {
  // Nothing of a refused batch is applied, not even the levels of its new
  // defines: they would show in GetLevel and ListLevels, and count against
  // max_levels until retention freed them.
  const size_t levels_before = f_.stats().level_count();
  ASSERT_EQ(ApplyTo(session_, BatchBuilder(2)
                                  .Define(4, "n/m")
                                  .Add(DeltaFor(4, kPubRole).subscriptions_opened(1))
                                  .Add(DeltaFor(3, kPubRole).broadcasts_closed(1)))
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.stats().level_count(), levels_before);
  EXPECT_FALSE(f_.stats().level(Path("n/m"))) << "the refused batch left level \"n/m\" behind";
  EXPECT_FALSE(f_.stats().level(Path("n"))) << "the refused batch left level \"n\" behind";
}

TEST(RejectReasonTest, NamesAreTheMetricLabels) {
  EXPECT_EQ(RejectReasonName(RejectReason::kSequence), "sequence");
  EXPECT_EQ(RejectReasonName(RejectReason::kBatchSize), "batch_size");
  EXPECT_EQ(RejectReasonName(RejectReason::kLevelLimit), "level_limit");
  EXPECT_EQ(RejectReasonName(RejectReason::kOverClose), "over_close");
  EXPECT_EQ(RejectReasonName(RejectReason::kTakenOver), "taken_over");
  EXPECT_EQ(RejectReasonName(RejectReason::kResyncPart), "resync_part");
  EXPECT_EQ(RejectReasonName(RejectReason::kResyncMemory), "resync_memory");
  EXPECT_EQ(RejectReasonName(RejectReason::kCounterWrap), "counter_wrap");
  EXPECT_EQ(RejectReasonName(RejectReason::kTierLimit), "tier_limit");
  EXPECT_EQ(kRejectReasonCount, static_cast<int>(RejectReason::kTierLimit) + 1);
}

}  // namespace
}  // namespace moq_stats::server
