// A resync sent in parts (resync_continues): nothing is applied until the
// last part, then the parts are applied as one batch; parts out of turn, or
// over a resync's entry limit, drop what was held.

#include <cstdint>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "server/sessions/session.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"

namespace moq_stats::server {
namespace {

using test::BatchBuilder;
using test::Counted;
using test::DeltaFor;
using test::kExt;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::SessionTest;
using test::Snap;

// Over a record with handle 1 ("a/b") holding 2 publisher broadcasts open.
class SessionResyncPartsTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).broadcasts_opened(2).bytes(10)));
  }
  absl::Status Apply(const moq::stats::v1::Batch& batch, bool* held, RejectReason* why = nullptr) {
    RejectReason ignored = RejectReason::kNone;
    size_t deltas = 0;
    return session_.Apply(batch, why ? why : &ignored, &deltas, held);
  }
};

TEST_F(SessionResyncPartsTest, NothingAppliesUntilTheLastPartThenAllAsOneBatch) {
  const auto before = Counted(f_.stats());
  bool held = false;
  ASSERT_TRUE(Apply(BatchBuilder(5)
                        .Resync()
                        .ReleaseUnlisted()
                        .Continues()
                        .Define(1, "a/b")
                        .Open(1, kPubRole, 1, 0)
                        .Add(DeltaFor(1, kPubRole).bytes(7)),
                    &held)
                  .ok());
  EXPECT_TRUE(held);
  ASSERT_TRUE(Apply(BatchBuilder(5).Resync().Continues().Define(2, "a/c").Open(2, kSubRole, 1, 3), &held).ok());
  EXPECT_TRUE(held);
  EXPECT_EQ(Counted(f_.stats()), before) << "a part was applied before the last one";
  EXPECT_EQ(session_.applied_sequence(), 1u);
  EXPECT_GT(session_.pending_resync_bytes(), 0u);

  ASSERT_TRUE(Apply(BatchBuilder(5).Resync().Define(3, "x").Add(DeltaFor(3, kSubRole).frames(4)), &held).ok());
  EXPECT_FALSE(held);
  EXPECT_EQ(session_.applied_sequence(), 5u);
  EXPECT_EQ(session_.handle_count(), 3u);
  EXPECT_EQ(session_.pending_resync_bytes(), 0u);
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 1, 0, 0, 17));  // one of two broadcasts closed, 7 more bytes
  EXPECT_EQ(Read("a/c", kExt, kSub), Snap(1, 0, 3, 0));
  EXPECT_EQ(Read("x", kExt, kSub), Snap(0, 0, 0, 0, 0, 4));
}

TEST_F(SessionResyncPartsTest, ReleaseUnlistedSeesTheDefinesOfEveryPart) {
  bool held = false;
  ApplyOk(BatchBuilder(2).Define(2, "a/c"));
  ASSERT_TRUE(Apply(BatchBuilder(3).Resync().ReleaseUnlisted().Continues().Define(2, "a/c"), &held).ok());
  ASSERT_TRUE(Apply(BatchBuilder(3).Resync().Define(1, "a/b").Open(1, kPubRole, 2, 0), &held).ok());
  EXPECT_EQ(session_.handle_count(), 2u);
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 0, 0, 0, 10));
}

TEST_F(SessionResyncPartsTest, ABatchOfAnotherSequenceDropsTheParts) {
  bool held = false;
  const auto before = Counted(f_.stats());
  ASSERT_TRUE(Apply(BatchBuilder(5).Resync().Continues().Define(1, "a/b").Open(1, kPubRole, 0, 0), &held).ok());
  RejectReason why = RejectReason::kNone;
  absl::Status status = Apply(BatchBuilder(6).Resync().Define(2, "q"), &held, &why);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(why, RejectReason::kResyncPart);
  EXPECT_EQ(session_.pending_resync_bytes(), 0u);
  EXPECT_EQ(Counted(f_.stats()), before);
  // The last part of the dropped resync alone is a whole batch now: its
  // handle 1 guards stay as recorded.
  ApplyOk(BatchBuilder(5).Resync().Define(1, "a/b").Open(1, kPubRole, 2, 0));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 0, 0, 0, 10));
}

TEST_F(SessionResyncPartsTest, AnOrdinaryBatchBetweenPartsIsRefused) {
  bool held = false;
  ASSERT_TRUE(Apply(BatchBuilder(5).Resync().Continues().Define(1, "a/b"), &held).ok());
  RejectReason why = RejectReason::kNone;
  EXPECT_EQ(Apply(BatchBuilder(5).Add(DeltaFor(1, kPubRole).bytes(1)), &held, &why).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(why, RejectReason::kResyncPart);
}

TEST_F(SessionResyncPartsTest, ContinuesWithoutResyncOrAnOldSequenceIsRefused) {
  bool held = false;
  RejectReason why = RejectReason::kNone;
  EXPECT_EQ(Apply(BatchBuilder(5).Continues().Define(2, "a/c"), &held, &why).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(why, RejectReason::kResyncPart);
  EXPECT_EQ(Apply(BatchBuilder(1).Resync().Continues().Define(2, "a/c"), &held, &why).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(why, RejectReason::kSequence);
  EXPECT_EQ(session_.pending_resync_bytes(), 0u);
}

TEST_F(SessionResyncPartsTest, PartsOverTheResyncEntryLimitAreRefusedAsTheyArrive) {
  Session small("s", "r", f_.stats(), SessionLimits{/*max_handles=*/2, /*max_batch_entries=*/4});
  RejectReason why = RejectReason::kNone;
  size_t deltas = 0;
  bool held = false;
  // The limit is max(4, 5 * 2) = 10 entries over every part.
  ASSERT_TRUE(small
                  .Apply(BatchBuilder(1).Resync().Continues().Define(1, "a").Define(2, "b").Open(1, kPubRole, 1, 0),
                         &why, &deltas, &held)
                  .ok());
  BatchBuilder more(1);
  more.Resync().Continues();
  for (int i = 0; i < 8; ++i) more.Add(DeltaFor(1, kPubRole).bytes(1));
  absl::Status status = small.Apply(more, &why, &deltas, &held);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(why, RejectReason::kBatchSize);
  EXPECT_EQ(small.pending_resync_bytes(), 0u);
  EXPECT_EQ(small.applied_sequence(), 0u);
}

TEST_F(SessionResyncPartsTest, DroppedPartsApplyNothing) {
  bool held = false;
  ASSERT_TRUE(Apply(BatchBuilder(5).Resync().Continues().Define(1, "a/b").Open(1, kPubRole, 0, 0), &held).ok());
  session_.DropPendingResync();
  EXPECT_EQ(session_.pending_resync_bytes(), 0u);
  ApplyOk(BatchBuilder(6).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 0, 0, 0, 11));
}

}  // namespace
}  // namespace moq_stats::server
