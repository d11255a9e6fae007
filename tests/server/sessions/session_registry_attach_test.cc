// Attaching to the SessionRegistry: a new session, a resume within the grace
// period, a take-over by a second stream, and Close.

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::AllCounts;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::Flat;
using test::kExt;
using test::kGrace;
using test::kOpenTrafficGuards;
using test::kPub;
using test::kPubRole;
using test::LevelCounts;
using test::OpenTraffic;
using test::Rejected;
using test::SessionRegistryTest;
using test::Snap;

// ---------------------------------------------------------------------------
// Attach, resume

TEST_F(SessionRegistryTest, AttachCreatesANewSession) {
  auto attached = AttachOk("s1");
  EXPECT_TRUE(attached.attachment.valid());
  EXPECT_FALSE(attached.resumed);
  EXPECT_EQ(attached.applied_sequence, 0u);
  auto counts = registry_->counts();
  EXPECT_EQ(counts.known, 1u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 0u);
  auto open = registry_->OpenGuards("s1");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(Flat(*open), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(registry_->OpenGuards("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionRegistryTest, ReattachWithinGraceResumes) {
  auto first = AttachOk("s1");
  ApplyOk(first.attachment, OpenTraffic(1));
  ApplyOk(first.attachment, BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(5)));
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(first.attachment);
  EXPECT_EQ(registry_->counts().attached, 0u);
  EXPECT_EQ(registry_->counts().known, 1u);

  f_.Advance(kGrace - absl::Milliseconds(1));
  auto second = AttachOk("s1");
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.applied_sequence, 4u);
  EXPECT_EQ(AllCounts(f_.stats()), before) << "resuming closed or counted something";
  EXPECT_EQ(Flat(*registry_->OpenGuards("s1")), kOpenTrafficGuards);

  // The grace timer of the detach no longer applies.
  f_.Advance(3 * kGrace);
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 0, 105, 2, 1));
  // The old stream's hold is gone; the new one goes on from sequence 4.
  EXPECT_EQ(registry_->Apply(first.attachment, BatchBuilder(5)).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(registry_->Apply(second.attachment, BatchBuilder(4)).code(), absl::StatusCode::kOutOfRange);
  ApplyOk(second.attachment, BatchBuilder(5).Add(DeltaFor(1, kPubRole).subscriptions_closed(2)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 2, 105, 2, 1));
  auto counts = registry_->counts();
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 1u);
  EXPECT_EQ(counts.attached, 1u);
}

// ---------------------------------------------------------------------------
// Take-over, Close

TEST_F(SessionRegistryTest, ASecondAttachTakesTheSessionOver) {
  int first_taken = 0;
  int second_taken = 0;
  auto first = AttachOk("s1", [&] {
    ++first_taken;
    // Called with no lock held: the registry is usable from the callback.
    EXPECT_EQ(registry_->counts().known, 1u);
    EXPECT_TRUE(registry_->OpenGuards("s1").ok());
  });
  ApplyOk(first.attachment, OpenTraffic(1));
  auto second = AttachOk("s1", [&] { ++second_taken; });
  EXPECT_EQ(first_taken, 1);
  EXPECT_EQ(second_taken, 0);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.applied_sequence, 1u);

  const LevelCounts before = AllCounts(f_.stats());
  absl::Status aborted = registry_->Apply(first.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted) << aborted;
  EXPECT_EQ(Rejected(*registry_, RejectReason::kTakenOver), 1u);
  EXPECT_EQ(AllCounts(f_.stats()), before);
  ApplyOk(second.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(Read("a/b", kExt, kPub).bytes, 101u);

  // The old stream ending changes nothing: no grace period starts, nothing
  // is closed.
  registry_->Detach(first.attachment);
  registry_->Close(first.attachment);
  f_.Advance(3 * kGrace);
  auto counts = registry_->counts();
  EXPECT_EQ(counts.expired, 0u);
  EXPECT_EQ(counts.closed, 0u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.taken_over, 1u);
  EXPECT_EQ(Flat(*registry_->OpenGuards("s1")), kOpenTrafficGuards);

  // A third stream takes it from the second, and only the second is told.
  auto third = AttachOk("s1");
  EXPECT_EQ(first_taken, 1);
  EXPECT_EQ(second_taken, 1);
  EXPECT_EQ(third.applied_sequence, 2u);
  EXPECT_EQ(registry_->Apply(second.attachment, BatchBuilder(3)).code(), absl::StatusCode::kAborted);
  ApplyOk(third.attachment, BatchBuilder(3));
}

TEST_F(SessionRegistryTest, TakeOverOfADetachedSessionIsAResume) {
  int taken = 0;
  auto first = AttachOk("s1", [&] { ++taken; });
  registry_->Detach(first.attachment);
  auto second = AttachOk("s1");
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(taken, 0);
  EXPECT_EQ(registry_->counts().taken_over, 0u);
}

TEST_F(SessionRegistryTest, CloseClosesAtOnceAndForgets) {
  auto attached = AttachOk("s1");
  ApplyOk(attached.attachment, OpenTraffic(1));
  registry_->Close(attached.attachment);
  ExpectAllClosed(f_.stats());
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 1, 2, 2, 100, 2, 1));
  auto counts = registry_->counts();
  EXPECT_EQ(counts.closed, 1u);
  EXPECT_EQ(counts.known, 0u);
  EXPECT_EQ(counts.attached, 0u);
  EXPECT_EQ(registry_->OpenGuards("s1").status().code(), absl::StatusCode::kNotFound);

  const LevelCounts after_close = AllCounts(f_.stats());
  EXPECT_NE(registry_->Apply(attached.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1))).code(),
            absl::StatusCode::kOk);
  registry_->Detach(attached.attachment);
  registry_->Close(attached.attachment);
  f_.Advance(3 * kGrace);
  EXPECT_EQ(AllCounts(f_.stats()), after_close) << "something was closed twice";
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_EQ(registry_->counts().closed, 1u);
  EXPECT_EQ(f_.stats().running_publishers(), 0);

  auto again = AttachOk("s1");
  EXPECT_FALSE(again.resumed);
  EXPECT_EQ(again.applied_sequence, 0u);
}

}  // namespace
}  // namespace moq_stats::server
