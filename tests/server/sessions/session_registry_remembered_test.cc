// What the registry remembers of sessions that ended (grace expiry or
// eviction): the last applied sequence, told to a relay that comes back with
// the id, for a bounded time and count, and through a checkpoint. Also the
// relay name's bounds and the memory cap on resync parts.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session.h"
#include "server/sessions/session_registry.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"

namespace moq_stats::server {
namespace {

using test::BatchBuilder;
using test::DefaultOptions;
using test::DeltaFor;
using test::kGrace;
using test::kPubRole;
using test::OpenTraffic;
using test::Rejected;
using test::SessionRegistryTest;
using ::testing::HasSubstr;

// A session with batches 1 and 2 applied, detached and expired.
void ExpireWithTwoBatches(SessionRegistry& registry, test::StatsFixture& f, const std::string& id) {
  auto attached = registry.Attach(id, "relay", nullptr);
  ASSERT_TRUE(attached.ok()) << attached.status();
  ASSERT_TRUE(registry.Apply(attached->attachment, OpenTraffic(1)).ok());
  ASSERT_TRUE(registry.Apply(attached->attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(5))).ok());
  registry.Detach(attached->attachment);
  f.Advance(kGrace);
}

TEST_F(SessionRegistryTest, AnExpiredSessionsAppliedSequenceIsToldToItsRelay) {
  ExpireWithTwoBatches(*registry_, f_, "s1");
  EXPECT_EQ(registry_->counts().expired, 1u);
  EXPECT_EQ(registry_->counts().remembered, 1u);
  auto again = AttachOk("s1");
  EXPECT_FALSE(again.resumed);
  EXPECT_EQ(again.applied_sequence, 0u);
  EXPECT_EQ(again.expired_applied_sequence, 2u);
  // Another id learns nothing.
  EXPECT_EQ(AttachOk("s2").expired_applied_sequence, 0u);
}

TEST_F(SessionRegistryTest, ASessionThatAppliedNothingOrClosedIsNotRemembered) {
  auto idle = AttachOk("idle");
  registry_->Detach(idle.attachment);
  auto closing = AttachOk("closing");
  ApplyOk(closing.attachment, OpenTraffic(1));
  registry_->Close(closing.attachment);
  f_.Advance(kGrace);
  EXPECT_EQ(registry_->counts().remembered, 0u);
  EXPECT_EQ(AttachOk("idle").expired_applied_sequence, 0u);
  EXPECT_EQ(AttachOk("closing").expired_applied_sequence, 0u);
}

TEST_F(SessionRegistryTest, ExpiredSessionsAreForgottenAfterTheirTime) {
  SessionRegistryOptions options = DefaultOptions();
  options.remember_expired = absl::Minutes(1);
  Recreate(options);
  ExpireWithTwoBatches(*registry_, f_, "s1");
  f_.Advance(absl::Minutes(1));
  EXPECT_EQ(AttachOk("s1").expired_applied_sequence, 2u) << "exactly at the bound it is still known";
  auto s1 = AttachOk("s1");
  registry_->Close(s1.attachment);
  ExpireWithTwoBatches(*registry_, f_, "s3");
  f_.Advance(absl::Minutes(1) + absl::Milliseconds(1));
  EXPECT_EQ(AttachOk("s3").expired_applied_sequence, 0u);
  EXPECT_EQ(registry_->counts().remembered, 0u);
}

TEST_F(SessionRegistryTest, AtMostMaxRememberedTheOldestGoFirst) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_remembered = 3;
  Recreate(options);
  for (const char* id : {"a", "b", "c", "d"}) ExpireWithTwoBatches(*registry_, f_, id);
  EXPECT_EQ(registry_->counts().remembered, 3u);
  EXPECT_EQ(AttachOk("a").expired_applied_sequence, 0u);
  EXPECT_EQ(AttachOk("b").expired_applied_sequence, 2u);
  EXPECT_EQ(AttachOk("d").expired_applied_sequence, 2u);
}

TEST_F(SessionRegistryTest, RememberedSessionsSurviveACheckpoint) {
  ExpireWithTwoBatches(*registry_, f_, "s1");
  const moq::stats::v1::Checkpoint checkpoint = registry_->Capture(1);
  ASSERT_EQ(checkpoint.expired_sessions_size(), 1);
  EXPECT_EQ(checkpoint.expired_sessions(0).session_id(), "s1");
  EXPECT_EQ(checkpoint.expired_sessions(0).applied_sequence(), 2u);

  test::StatsFixture fresh(2);
  auto restored =
      SessionRegistry::Create(fresh.stats(), &fresh.time().scheduler(), &fresh.time().clock(), DefaultOptions());
  ASSERT_TRUE(restored->Restore(checkpoint).ok());
  EXPECT_EQ(restored->counts().remembered, 1u);
  auto attached = restored->Attach("s1", "relay", nullptr);
  ASSERT_TRUE(attached.ok());
  EXPECT_EQ(attached->expired_applied_sequence, 2u);
}

TEST_F(SessionRegistryTest, TheRelayNameIsBoundedUtf8) {
  auto too_long = registry_->Attach("s1", std::string(257, 'r'), nullptr);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.status().message()), HasSubstr("open.relay"));
  auto not_utf8 = registry_->Attach("s1", std::string("r\xff"), nullptr);
  EXPECT_EQ(not_utf8.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(not_utf8.status().message()), HasSubstr("not UTF-8"));
  EXPECT_EQ(registry_->counts().known, 0u);
  EXPECT_TRUE(registry_->Attach("s1", std::string(256, 'r'), nullptr).ok());
}

TEST_F(SessionRegistryTest, ResyncPartsAreHeldDroppedWithTheStreamAndCapped) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_pending_resync_bytes = 4096;
  Recreate(options);
  auto attached = AttachOk("s1");
  ApplyOk(attached.attachment, OpenTraffic(1));
  bool held = false;
  const auto part = BatchBuilder(2).Resync().Continues().Define(1, "a/b");
  ASSERT_TRUE(registry_->Apply(attached.attachment, part, &held).ok());
  EXPECT_TRUE(held);
  EXPECT_GT(registry_->counts().pending_resync_bytes, 0u);
  EXPECT_EQ(registry_->counts().resync_parts_held, 1u);
  // The stream ends before the last part: nothing of it stays.
  registry_->Detach(attached.attachment);
  EXPECT_EQ(registry_->counts().pending_resync_bytes, 0u);
  attached = AttachOk("s1");
  EXPECT_EQ(attached.applied_sequence, 1u);

  // Past the cap the part is refused, counted, and the parts held dropped.
  BatchBuilder big(2);
  big.Resync().Continues().Define(1, "a/b").Define(9, std::string(5000, 'x'));
  absl::Status status = registry_->Apply(attached.attachment, big, &held);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(Rejected(*registry_, RejectReason::kResyncMemory), 1u);
  EXPECT_EQ(registry_->counts().pending_resync_bytes, 0u);
}

}  // namespace
}  // namespace moq_stats::server
