// Resync: a batch that states what is open replaces the session's record
// of its open guards, counting the difference as opens and closes.

#include <array>
#include <cstdint>

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

using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::Flat;
using test::kExt;
using test::kInt;
using test::kInterval;
using test::kIntTier;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::SessionTest;
using test::Snap;
using test::StatsFixture;

// ---------------------------------------------------------------------------
// Resync

// Over a record with handle 1 ("a/b", external; as subscriber 1 broadcast and
// 2 subscriptions open) and handle 2 ("a/c", external; as publisher 1
// broadcast and 1 subscription open).
class SessionResyncTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1)
                .Define(1, "a/b")
                .Define(2, "a/c")
                .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(2))
                .Add(DeltaFor(2, kPubRole).broadcasts_opened(1).subscriptions_opened(1)));
  }
};

TEST_F(SessionResyncTest, FewerOpenThanRecordedCountsCloses) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 1).Open(2, kPubRole, 1, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 1));
  EXPECT_EQ(Read("", kExt, kSub), Snap(1, 0, 2, 1));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 1, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 1, 1, 1}));
  EXPECT_EQ(session_.applied_sequence(), 2u);
}

TEST_F(SessionResyncTest, MoreOpenThanRecordedCountsOpens) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 3).Open(2, kPubRole, 2, 1));
  for (const char* key : {"", "a", "a/b"}) EXPECT_EQ(Read(key, kExt, kSub), Snap(1, 0, 3, 0)) << key;
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(2, 0, 1, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{2, 1, 1, 3}));
  EXPECT_EQ(f_.stats().running_publishers(), 4);
}

TEST_F(SessionResyncTest, OpensCountedByResyncStartThePublishers) {
  ApplyOk(BatchBuilder(2)
              .Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(2))
              .Add(DeltaFor(2, kPubRole).broadcasts_closed(1).subscriptions_closed(1)));
  f_.Advance(kInterval);
  ASSERT_EQ(f_.stats().running_publishers(), 0);
  ApplyOk(BatchBuilder(3).Resync().Open(1, kSubRole, 0, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 3, 2));
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // "", "a", "a/b"
  EXPECT_TRUE(f_.stats().level(Path("a/b"))->publisher_running());
  EXPECT_FALSE(f_.stats().level(Path("a/c"))->publisher_running());
}

TEST_F(SessionResyncTest, HandlesAndRolesNotListedHaveTheirGuardsClosed) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 2));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 1, 1, 1));
  EXPECT_EQ(Read("a/b", kExt, kPub), Counts{});
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 1, 2}));
  // Nothing listed: everything closes, the handles stay defined.
  ApplyOk(BatchBuilder(3).Resync());
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(session_.handle_count(), 2u);
  ExpectAllClosed(f_.stats());
  ApplyOk(BatchBuilder(4).Release(1).Release(2));
}

TEST_F(SessionResyncTest, DeltasAfterTheResyncInOneBatch) {
  // Resync to 1 open, then the batch's delta closes it and opens on handle 2.
  ApplyOk(BatchBuilder(2)
              .Resync()
              .Open(1, kSubRole, 1, 1)
              .Open(2, kPubRole, 1, 1)
              .Add(DeltaFor(1, kSubRole).subscriptions_closed(1).bytes(10))
              .Add(DeltaFor(2, kPubRole).subscriptions_opened(2)));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 2, 10));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 3, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 3, 1, 0}));
  // The deltas are checked against the resynced record: 1 open, 2 closed is
  // refused, and the resync's own closes are not applied either.
  ExpectRefused(BatchBuilder(3).Resync().Open(2, kPubRole, 1, 1).Add(DeltaFor(2, kPubRole).subscriptions_closed(2)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 2"});
  // A handle resynced to nothing may be released in the same batch.
  ApplyOk(BatchBuilder(4).Resync().Open(2, kPubRole, 1, 3).Release(1));
  EXPECT_EQ(session_.handle_count(), 1u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 2, 2, 10));
}

TEST_F(SessionResyncTest, ResyncOnAHandleDefinedInTheSameBatch) {
  ApplyOk(BatchBuilder(2)
              .Define(3, "b", kIntTier)
              .Resync()
              .Open(1, kSubRole, 1, 2)
              .Open(2, kPubRole, 1, 1)
              .Open(3, kPubRole, 1, 2));
  EXPECT_EQ(Read("b", kInt, kPub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 1, 0));
}

TEST(SessionReleaseUnlistedTest, ClosesAndReleasesWhatTheResyncDoesNotDefine) {
  StatsFixture f(2);
  Session session("s", "r", f.stats(), SessionLimits{});
  RejectReason why;
  size_t deltas;
  ASSERT_TRUE(session
                  .Apply(BatchBuilder(1)
                             .Define(1, "a/kept")
                             .Define(2, "a/gone")
                             .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
                             .Add(DeltaFor(2, kPubRole).subscriptions_opened(2).bytes(5)),
                         &why, &deltas)
                  .ok());
  // Handle 2 named by a resync that releases what it does not define: unknown.
  absl::Status refused =
      session.Apply(BatchBuilder(2).Resync().ReleaseUnlisted().Define(1, "a/kept").Add(DeltaFor(2, kPubRole).bytes(1)),
                    &why, &deltas);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(why, RejectReason::kUnknownHandle);
  EXPECT_EQ(session.handle_count(), 2u) << "a refused batch changes nothing";

  ASSERT_TRUE(
      session
          .Apply(BatchBuilder(3).Resync().ReleaseUnlisted().Define(1, "a/kept").Open(1, kPubRole, 0, 1), &why, &deltas)
          .ok());
  EXPECT_EQ(session.handle_count(), 1u);
  Counts gone = f.Read("a/gone", Tier::kExternal, Role::kPublisher);
  EXPECT_EQ(gone.subscriptions, 2u);
  EXPECT_EQ(gone.subscriptions_closed, 2u) << "the released handle's guards were closed";
  Counts kept = f.Read("a/kept", Tier::kExternal, Role::kPublisher);
  EXPECT_EQ(kept.subscriptions, 1u);
  EXPECT_EQ(kept.subscriptions_closed, 0u);
  // The released number is free again.
  EXPECT_TRUE(session.Apply(BatchBuilder(4).Define(2, "b"), &why, &deltas).ok()) << RejectReasonName(why);
}

}  // namespace
}  // namespace moq_stats::server
