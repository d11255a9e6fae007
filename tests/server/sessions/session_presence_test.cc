// Session presence and named tiers through a session: presence handles open
// and close session guards into the PresenceTable, are closed by CloseAll
// (grace expiry), set by a resync and kept in the checkpoint record; closing
// more than are open is refused; a named tier counts in the path table and
// in no level; past --max-tiers and --max-session-roots a define is refused
// with the cap named.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
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
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectSessionRefused;
using test::kPubRole;
using test::kSubRole;
using ::testing::HasSubstr;

class SessionPresenceTest : public ::testing::Test {
 protected:
  // An aggregator counting paths, with room for 2 named tiers and 3
  // session roots.
  Stats MakeStats() {
    StatsConfig config;
    config.prefix = ".stats";
    config.levels = 2;
    config.node = "sjc";
    config.count_paths = true;
    config.max_tiers = 2;
    config.max_session_roots = 3;
    auto stats = Stats::Create(config, &origin_, &time_.scheduler(), &time_.clock());
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : Stats();
  }

  void ApplyOk(Session& session, const pb::Batch& batch) {
    absl::Status s = ApplyTo(session, batch);
    ASSERT_TRUE(s.ok()) << s;
  }
  void ApplyOk(const pb::Batch& batch) { ApplyOk(session_, batch); }

  // The presence of (tier, root) as the next report reads it; fails when the
  // table has no such entry.
  Presence ReadPresence(const std::string& tier, const std::string& root) {
    for (const PresenceReport& r : stats_.presence()->Report()) {
      if (r.tier == tier && r.root == root) return r.counts;
    }
    ADD_FAILURE() << "no presence entry (" << tier << ", " << root << ")";
    return {};
  }
  // The path table's counts of (tier, path) in `role`.
  Counts ReadPath(const std::string& tier, const std::string& path, Role role) {
    for (const PathReport& r : stats_.paths()->Report()) {
      if (r.tier == tier && r.path.str() == path) return r.roles[static_cast<size_t>(role)];
    }
    ADD_FAILURE() << "no path entry (" << tier << ", " << path << ")";
    return {};
  }

  Origin origin_;
  test::SimulatedTime time_;
  Stats stats_ = MakeStats();
  Session session_{"session-1", "relay-a", stats_, SessionLimits{}};
};

Presence P(uint64_t sessions, uint64_t closed) { return Presence{sessions, closed}; }

TEST_F(SessionPresenceTest, SessionGuardsCountPerTierAndRootAndInNoLevel) {
  ApplyOk(BatchBuilder(1)
              .DefinePresence(1, "acme")
              .DefinePresence(2, "", "region")
              .Add(DeltaFor(1, kPubRole).sessions_opened(3))
              .Add(DeltaFor(2, kPubRole).sessions_opened(1)));
  EXPECT_EQ(ReadPresence("", "acme"), P(3, 0));
  EXPECT_EQ(ReadPresence("region", ""), P(1, 0));
  EXPECT_EQ(stats_.level(Path("acme")), nullptr) << "a presence handle made a level";
  EXPECT_EQ(session_.open_guards()[0].sessions, 4u);
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kPubRole).sessions_closed(2)));
  EXPECT_EQ(ReadPresence("", "acme"), P(3, 2));
}

TEST_F(SessionPresenceTest, ClosingMoreSessionsThanAreOpenIsRefused) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "acme").Add(DeltaFor(1, kPubRole).sessions_opened(1)));
  ExpectSessionRefused(session_, stats_, BatchBuilder(2).Add(DeltaFor(1, kPubRole).sessions_closed(2)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kOverClose,
                       {"deltas[0]", "closes 2 session guards but only 1 are open"});
  EXPECT_EQ(ReadPresence("", "acme"), P(1, 0));
}

TEST_F(SessionPresenceTest, APresenceHandleWithASessionOpenCannotBeReleased) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "acme").Add(DeltaFor(1, kPubRole).sessions_opened(1)));
  ExpectSessionRefused(session_, stats_, BatchBuilder(2).Release(1), absl::StatusCode::kInvalidArgument,
                       RejectReason::kReleaseOpen, {"presence handle 1", "1 session guards open"});
  ApplyOk(BatchBuilder(3).Add(DeltaFor(1, kPubRole).sessions_closed(1)).Release(1));
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(ReadPresence("", "acme"), P(1, 1));
}

TEST_F(SessionPresenceTest, PresenceAndTrafficDoNotMix) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "acme").Define(2, "acme/cam"));
  ExpectSessionRefused(session_, stats_, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(5)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum,
                       {"handle 1", "counts sessions only"});
  ExpectSessionRefused(session_, stats_, BatchBuilder(3).Add(DeltaFor(2, kPubRole).sessions_opened(1)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum,
                       {"handle 2", "presence handles only"});
  ExpectSessionRefused(session_, stats_, BatchBuilder(4).Add(DeltaFor(1, kSubRole).sessions_opened(1)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum, {"ROLE_PUBLISHER"});
  // A presence handle is not a broadcast handle of the same path.
  ExpectSessionRefused(session_, stats_, BatchBuilder(5).Define(1, "acme"), absl::StatusCode::kFailedPrecondition,
                       RejectReason::kRedefined, {"presence of auth root \"acme\""});
}

TEST_F(SessionPresenceTest, CloseAllClosesOpenSessions) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "acme", "edge").Add(DeltaFor(1, kPubRole).sessions_opened(2)));
  session_.CloseAll();
  EXPECT_EQ(ReadPresence("edge", "acme"), P(2, 2));
  // Nobody holds it any more: that report was its last.
  EXPECT_EQ(stats_.presence()->size(), 0u);
}

TEST_F(SessionPresenceTest, AResyncSetsTheSessionsOpen) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "acme").Add(DeltaFor(1, kPubRole).sessions_opened(3)));
  ApplyOk(BatchBuilder(2).Resync().DefinePresence(1, "acme").OpenSessions(1, 1));
  EXPECT_EQ(ReadPresence("", "acme"), P(3, 2));
  ApplyOk(BatchBuilder(3).Resync().DefinePresence(1, "acme").OpenSessions(1, 4));
  EXPECT_EQ(ReadPresence("", "acme"), P(6, 2));
  EXPECT_EQ(session_.open_guards()[0].sessions, 4u);
}

TEST_F(SessionPresenceTest, TheCheckpointRecordKeepsPresenceAndTierLabels) {
  ApplyOk(BatchBuilder(1)
              .DefinePresence(1, "acme", "edge")
              .DefineLabelled(2, "acme/cam", "edge")
              .DefineLabelled(3, "acme/cam", "internal")
              .Add(DeltaFor(1, kPubRole).sessions_opened(2))
              .Add(DeltaFor(2, kPubRole).broadcasts_opened(1)));
  pb::CheckpointSession saved;
  session_.SaveTo(&saved);
  ASSERT_EQ(saved.handles_size(), 3);
  session_.CloseAll();
  stats_.presence()->Report();  // forgets the closed entry
  stats_.paths()->Report();

  auto restored = Session::Restore(saved, stats_, SessionLimits{});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->open_guards()[0].sessions, 2u);
  EXPECT_EQ((*restored)->open_guards()[0].broadcasts, 1u);
  // The restored presence counts its open sessions again (no level holds
  // them), and the handles are what they were: a define that agrees is
  // accepted, one that does not is refused.
  EXPECT_EQ(ReadPresence("edge", "acme"), P(2, 0));
  ApplyOk(**restored, BatchBuilder(2)
                          .DefinePresence(1, "acme", "edge")
                          .DefineLabelled(2, "acme/cam", "edge")
                          .Define(3, "acme/cam", pb::TIER_INTERNAL)
                          .Add(DeltaFor(1, kPubRole).sessions_closed(2))
                          .Add(DeltaFor(2, kPubRole).broadcasts_closed(1)));
  EXPECT_EQ(ReadPresence("edge", "acme"), P(2, 2));
  ExpectSessionRefused(**restored, stats_, BatchBuilder(3).DefineLabelled(2, "acme/cam", "other"),
                       absl::StatusCode::kFailedPrecondition, RejectReason::kRedefined, {"(edge)", "(other)"});
}

TEST_F(SessionPresenceTest, ANamedTierCountsInThePathTableAndInNoLevel) {
  ApplyOk(BatchBuilder(1)
              .DefineLabelled(1, "acme/cam", "edge")
              .DefineLabelled(2, "acme/cam", "internal")
              .DefineLabelled(3, "acme/cam", "external")
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).bytes(10))
              .Add(DeltaFor(2, kPubRole).bytes(20))
              .Add(DeltaFor(3, kPubRole).bytes(40)));
  Counts edge;
  edge.broadcasts = 1;
  edge.bytes = 10;
  EXPECT_EQ(ReadPath("edge", "acme/cam", Role::kPublisher), edge);
  // "internal" and "external" are the level format's tiers.
  auto level = stats_.level(Path("acme/cam"));
  ASSERT_NE(level, nullptr);
  EXPECT_EQ(level->snapshot(Tier::kInternal, Role::kPublisher).bytes, 20u);
  EXPECT_EQ(level->snapshot(Tier::kExternal, Role::kPublisher).bytes, 40u);
  EXPECT_EQ(level->snapshot(Tier::kExternal, Role::kPublisher).broadcasts, 0u);
}

TEST_F(SessionPresenceTest, ABadTierLabelIsRefused) {
  for (const std::string& label : {std::string("a/b"), std::string(".."), std::string(65, 'x'), std::string("\xff")}) {
    Session session("s-" + std::to_string(label.size()), "relay", stats_, SessionLimits{});
    ExpectSessionRefused(session, stats_, BatchBuilder(1).DefineLabelled(1, "a", label),
                         absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath, {"defines[0]", "tier label"});
  }
}

TEST_F(SessionPresenceTest, PastMaxTiersANewNamedTierIsRefusedAndKnownOnesStillWork) {
  ApplyOk(BatchBuilder(1).DefineLabelled(1, "a", "t1").DefinePresence(2, "r", "t2"));
  ExpectSessionRefused(session_, stats_, BatchBuilder(2).DefineLabelled(3, "a", "t3"),
                       absl::StatusCode::kResourceExhausted, RejectReason::kTierLimit, {"\"t3\"", "--max-tiers", "2"});
  // Known tiers and the level format's tiers are never refused.
  ApplyOk(BatchBuilder(3).DefineLabelled(3, "b", "t1").DefineLabelled(4, "b", "internal").Define(5, "b"));
  // Once the last handle of a tier is gone (and a report has run), its room
  // is free again.
  ApplyOk(BatchBuilder(4).Release(1).Release(3));
  stats_.paths()->Report();
  ApplyOk(BatchBuilder(5).DefineLabelled(6, "a", "t3"));
}

TEST_F(SessionPresenceTest, PastMaxSessionRootsANewRootIsRefused) {
  ApplyOk(BatchBuilder(1).DefinePresence(1, "a").DefinePresence(2, "b").DefinePresence(3, ""));
  ExpectSessionRefused(session_, stats_, BatchBuilder(2).DefinePresence(4, "c"), absl::StatusCode::kResourceExhausted,
                       RejectReason::kTierLimit, {"auth root \"c\"", "--max-session-roots", "3"});
  // Another session's presence of a root already held takes no more room.
  Session other("session-2", "relay-b", stats_, SessionLimits{});
  ApplyOk(other, BatchBuilder(1).DefinePresence(1, "a").Add(DeltaFor(1, kPubRole).sessions_opened(1)));
  EXPECT_EQ(ReadPresence("", "a"), P(1, 0));
}

}  // namespace
}  // namespace moq_stats::server
