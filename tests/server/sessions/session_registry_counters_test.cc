// The SessionRegistry's self-counters: batches, deltas, refusals by reason,
// and the sessions' lifecycle.

#include <cstdint>
#include <map>

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

namespace pb = ::moq::stats::v1;
using test::BatchBuilder;
using test::DefaultOptions;
using test::DeltaFor;
using test::kPubRole;
using test::OpenTraffic;
using test::SessionRegistryTest;

// ---------------------------------------------------------------------------
// Self-counters

TEST_F(SessionRegistryTest, CountsBatchesDeltasAndRefusalsByReason) {
  SessionRegistryOptions options = DefaultOptions();
  options.limits.max_handles = 3;
  options.limits.max_batch_entries = 6;
  options.max_pending_resync_bytes = 8;
  Recreate(options);
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));                             // 3 deltas
  ApplyOk(s1.attachment, BatchBuilder(2).Define(3, "z").Release(3));  // 0 deltas
  ApplyOk(s1.attachment, BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1)).Add(DeltaFor(1, kPubRole).bytes(2)));

  std::map<RejectReason, pb::Batch> refused = {
      {RejectReason::kSequence, BatchBuilder(3)},
      {RejectReason::kBatchSize,
       BatchBuilder(4).Release(1).Release(2).Release(3).Release(4).Release(5).Release(6).Release(7)},
      {RejectReason::kHandleLimit, BatchBuilder(4).Define(3, "x").Define(4, "y")},
      {RejectReason::kUnknownHandle, BatchBuilder(4).Add(DeltaFor(9, kPubRole).bytes(1))},
      {RejectReason::kInvalidPath, BatchBuilder(4).Define(3, "\xff")},
      {RejectReason::kInvalidEnum, BatchBuilder(4).Add(DeltaFor(1, pb::ROLE_UNSPECIFIED))},
      {RejectReason::kRedefined, BatchBuilder(4).Define(1, "elsewhere")},
      {RejectReason::kOverClose, BatchBuilder(4).Add(DeltaFor(1, kPubRole).broadcasts_closed(2))},
      {RejectReason::kReleaseOpen, BatchBuilder(4).Release(1)},
      {RejectReason::kDuplicate, BatchBuilder(4).Resync().Open(1, kPubRole, 1, 1).Open(1, kPubRole, 1, 1)},
      {RejectReason::kResyncPart, BatchBuilder(4).Continues()},
      {RejectReason::kResyncMemory, BatchBuilder(4).Resync().Continues().Define(1, "a/b")},
      {RejectReason::kCounterWrap, BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(~uint64_t{0}))},
  };
  for (const auto& [reason, batch] : refused) {
    EXPECT_FALSE(registry_->Apply(s1.attachment, batch).ok()) << RejectReasonName(reason);
  }
  auto s1_new = AttachOk("s1");
  EXPECT_EQ(registry_->Apply(s1.attachment, BatchBuilder(4)).code(), absl::StatusCode::kAborted);
  registry_->Drain();
  EXPECT_EQ(registry_->Apply(s1_new.attachment, BatchBuilder(4)).code(), absl::StatusCode::kUnavailable);

  auto counts = registry_->counts();
  EXPECT_EQ(counts.batches_applied, 3u);
  EXPECT_EQ(counts.deltas_applied, 5u);
  for (int i = 0; i < kRejectReasonCount; ++i) {
    auto reason = static_cast<RejectReason>(i);
    // The level and tier limits need an aggregator with limits (or paths
    // counted); session_limits_test and session_presence_test count those.
    uint64_t want =
        (reason == RejectReason::kNone || reason == RejectReason::kLevelLimit || reason == RejectReason::kTierLimit)
            ? 0
            : 1;
    EXPECT_EQ(counts.rejected[i], want) << RejectReasonName(reason);
  }
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 1u);
  EXPECT_EQ(counts.taken_over, 1u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.known, 1u);
}

}  // namespace
}  // namespace moq_stats::server
