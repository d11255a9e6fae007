// The grace period of a detached session, and what its expiry closes.

#include <array>
#include <cstdint>

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
using test::kInt;
using test::kInterval;
using test::kPub;
using test::kSub;
using test::kSubRole;
using test::LevelCounts;
using test::OpenTraffic;
using test::SessionRegistryTest;
using test::Snap;

// ---------------------------------------------------------------------------
// Grace

TEST_F(SessionRegistryTest, GraceExpiryClosesEveryGuardTheSessionHeld) {
  auto attached = AttachOk("s1");
  ApplyOk(attached.attachment, OpenTraffic(1));
  ApplyOk(attached.attachment, BatchBuilder(2).Add(DeltaFor(2, kSubRole).subscriptions_closed(1)));
  f_.Advance(kInterval);
  ASSERT_EQ(f_.stats().running_publishers(), 4);  // "", "a", "a/b", "a/c"
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(attached.attachment);

  // Exact: one millisecond before the end nothing is closed.
  f_.Advance(kGrace - absl::Milliseconds(1));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_TRUE(registry_->OpenGuards("s1").ok());

  f_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(registry_->counts().expired, 1u);
  EXPECT_EQ(registry_->counts().known, 0u);
  ExpectAllClosed(f_.stats());
  // Exactly what was open, nothing more: the opens and sums are unchanged.
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 1, 2, 2, 100, 2, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1, 40));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(2, 2, 3, 3, 0, 7));
  EXPECT_EQ(Read("", kInt, kSub), Snap(2, 2, 3, 3, 0, 7));
  EXPECT_EQ(registry_->OpenGuards("s1").status().code(), absl::StatusCode::kNotFound);

  // The publishers stop on their next tick.
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);

  // Forgotten: the id starts a new session; the old stream is refused.
  EXPECT_NE(registry_->Apply(attached.attachment, BatchBuilder(3)).code(), absl::StatusCode::kOk);
  auto again = AttachOk("s1");
  EXPECT_FALSE(again.resumed);
  EXPECT_EQ(again.applied_sequence, 0u);
  // And the expiry happened once.
  f_.Advance(3 * kGrace);
  EXPECT_EQ(registry_->counts().expired, 1u);
}

TEST_F(SessionRegistryTest, ADetachAfterAResumeStartsAFreshGracePeriod) {
  auto first = AttachOk("s1");
  ApplyOk(first.attachment, OpenTraffic(1));
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(first.attachment);
  f_.Advance(absl::Seconds(5));
  auto second = AttachOk("s1");
  ASSERT_TRUE(second.resumed);
  f_.Advance(absl::Seconds(1));
  registry_->Detach(second.attachment);
  // The first detach's deadline passes: nothing happens.
  f_.Advance(absl::Seconds(4));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  f_.Advance(kGrace - absl::Seconds(4) - absl::Milliseconds(1));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_EQ(registry_->counts().expired, 0u);
  f_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(registry_->counts().expired, 1u);
  ExpectAllClosed(f_.stats());
}

TEST_F(SessionRegistryTest, ExpiryClosesOnlyTheExpiredSessionsGuards) {
  auto s1 = AttachOk("s1");
  auto s2 = AttachOk("s2");
  ApplyOk(s1.attachment, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kSubRole).subscriptions_opened(2)));
  ApplyOk(s2.attachment, BatchBuilder(1).Define(8, "a/b").Add(DeltaFor(8, kSubRole).subscriptions_opened(3)));
  registry_->Detach(s1.attachment);
  f_.Advance(kGrace);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(0, 0, 5, 2));
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // s2 still subscribes on "", "a", "a/b"
  EXPECT_EQ(Flat(*registry_->OpenGuards("s2")), (std::array<uint64_t, 4>{0, 0, 0, 3}));
}

}  // namespace
}  // namespace moq_stats::server
