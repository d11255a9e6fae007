// The session's checkpoint record: SaveTo and Restore keep the counts exact
// and count nothing again.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
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
using test::AllCounts;
using test::ApplyTo;
using test::BatchBuilder;
using test::Counted;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::ExpectSessionRefused;
using test::Flat;
using test::kExt;
using test::kExtTier;
using test::kInt;
using test::kIntTier;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::LevelCounts;
using test::SessionTest;
using test::Snap;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Checkpoint record

TEST_F(SessionTest, SaveToRecordsTheSequenceHandlesAndOpenGuards) {
  ApplyOk(BatchBuilder(4)
              .Define(1, "//a//b/")
              .Define(9, "c", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(3).subscriptions_opened(4))
              .Add(DeltaFor(9, kSubRole).subscriptions_opened(1).subscriptions_closed(1)));
  pb::CheckpointSession saved;
  session_.SaveTo(&saved);
  EXPECT_EQ(saved.session_id(), "session-1");
  EXPECT_EQ(saved.relay(), "relay-a");
  EXPECT_EQ(saved.applied_sequence(), 4u);
  ASSERT_EQ(saved.handles_size(), 2);
  std::map<uint32_t, pb::CheckpointHandle> by_handle;
  for (const auto& h : saved.handles()) by_handle[h.handle()] = h;
  ASSERT_EQ(by_handle.count(1), 1u);
  ASSERT_EQ(by_handle.count(9), 1u);
  const pb::CheckpointHandle& h1 = by_handle[1];
  EXPECT_EQ(h1.path(), "a/b");
  EXPECT_EQ(h1.tier(), kExtTier);
  EXPECT_EQ(h1.publisher_broadcasts(), 1u);
  EXPECT_EQ(h1.publisher_subscriptions(), 2u);
  EXPECT_EQ(h1.subscriber_broadcasts(), 3u);
  EXPECT_EQ(h1.subscriber_subscriptions(), 4u);
  const pb::CheckpointHandle& h9 = by_handle[9];
  EXPECT_EQ(h9.path(), "c");
  EXPECT_EQ(h9.tier(), kIntTier);
  EXPECT_EQ(h9.publisher_broadcasts() + h9.publisher_subscriptions() + h9.subscriber_broadcasts() +
                h9.subscriber_subscriptions(),
            0u);
}

TEST_F(SessionTest, RestoreRoundTripDoesNotCountAgain) {
  ApplyOk(BatchBuilder(3)
              .Define(1, "a/b")
              .Define(2, "a/c", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100))
              .Add(DeltaFor(2, kSubRole).broadcasts_opened(2).subscriptions_opened(1)));
  pb::CheckpointSession saved;
  session_.SaveTo(&saved);
  const LevelCounts before = AllCounts(f_.stats());

  auto restored = Session::Restore(saved, f_.stats(), SessionLimits{});
  ASSERT_TRUE(restored.ok()) << restored.status();
  Session& r = **restored;
  EXPECT_EQ(r.id(), "session-1");
  EXPECT_EQ(r.relay(), "relay-a");
  EXPECT_EQ(r.applied_sequence(), 3u);
  EXPECT_EQ(r.handle_count(), 2u);
  EXPECT_EQ(Flat(r.open_guards()), Flat(session_.open_guards()));
  EXPECT_EQ(AllCounts(f_.stats()), before) << "Restore counted the record again";
  pb::CheckpointSession again;
  r.SaveTo(&again);
  EXPECT_EQ(again.applied_sequence(), saved.applied_sequence());
  EXPECT_EQ(again.handles_size(), saved.handles_size());

  // The restored record goes on where the saved one stopped: stale
  // sequences and over-closes are refused, its guards close exactly.
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1)),
                       absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"sequence 3"});
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_closed(3)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 1"});
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(5).Define(2, "a/c", kExtTier), absl::StatusCode::kFailedPrecondition,
                       RejectReason::kRedefined, {"defines[0]", "handle 2"});
  ASSERT_TRUE(
      ApplyTo(r, BatchBuilder(6).Define(2, "a/c", kIntTier).Add(DeltaFor(1, kPubRole).subscriptions_closed(2).bytes(1)))
          .ok());
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 2, 101));
  r.CloseAll();
  ExpectAllClosed(f_.stats());
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(2, 2, 1, 1));
}

TEST_F(SessionTest, RestoreRefusesAnInconsistentRecord) {
  pb::CheckpointSession saved;
  saved.set_session_id("s");
  saved.set_applied_sequence(2);
  auto add = [&](uint32_t handle, const std::string& path, int tier) {
    pb::CheckpointHandle* h = saved.add_handles();
    h->set_handle(handle);
    h->set_path(path);
    h->set_tier(static_cast<pb::Tier>(tier));
    h->set_publisher_subscriptions(1);
  };
  add(1, "a", kExtTier);
  add(1, "b", kExtTier);
  auto twice = Session::Restore(saved, f_.stats(), SessionLimits{});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("handle 1"));

  saved.clear_handles();
  add(1, "a", pb::TIER_UNSPECIFIED);
  EXPECT_EQ(Session::Restore(saved, f_.stats(), SessionLimits{}).status().code(), absl::StatusCode::kDataLoss);
  saved.clear_handles();
  add(1, "a/\xff", kExtTier);
  EXPECT_EQ(Session::Restore(saved, f_.stats(), SessionLimits{}).status().code(), absl::StatusCode::kDataLoss);
  // Nothing was counted by any of them.
  EXPECT_EQ(Counted(f_.stats()), LevelCounts{});
}

}  // namespace
}  // namespace moq_stats::server
