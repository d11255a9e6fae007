// The node format's path and presence counters through a checkpoint: a
// restarted sidecar resumes every path's twelve counters (named tiers
// included) and every auth root's session counts; closing what its restored
// sessions held (grace expiry) never takes closed counts above opened ones,
// also from a checkpoint that has neither; and counts that break the
// invariants are refused whole.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "origin/origin.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/simulated_time.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using test::BatchBuilder;
using test::DefaultOptions;
using test::DeltaFor;
using test::kGrace;
using test::kPubRole;
using test::kSubRole;
using ::testing::HasSubstr;

// One sidecar counting paths: its aggregator and session registry.
class Sidecar {
 public:
  Sidecar() {
    StatsConfig config;
    config.prefix = ".stats";
    config.levels = 2;
    config.node = "sjc";
    config.count_paths = true;
    auto stats = Stats::Create(config, &origin_, &time_.scheduler(), &time_.clock());
    EXPECT_TRUE(stats.ok()) << stats.status();
    stats_ = *stats;
    registry_ = SessionRegistry::Create(stats_, &time_.scheduler(), &time_.clock(), DefaultOptions());
  }

  SessionRegistry& registry() { return *registry_; }
  void Advance(absl::Duration d) { time_.Advance(d); }

  // "<tier>|<root>" -> sessions opened and closed, as the presence table
  // holds them now.
  std::map<std::string, std::pair<uint64_t, uint64_t>> Roots() const {
    std::map<std::string, std::pair<uint64_t, uint64_t>> out;
    for (const PresenceReport& r : stats_.presence()->Snapshot()) {
      out[r.tier + "|" + r.root] = {r.counts.sessions, r.counts.sessions_closed};
    }
    return out;
  }

  // "<tier>|<path>" -> counts per role, as the path table holds them now.
  std::map<std::string, std::array<Counts, 2>> Paths() const {
    std::map<std::string, std::array<Counts, 2>> out;
    for (const PathReport& r : stats_.paths()->Snapshot()) out[r.tier + "|" + r.path.str()] = r.roles;
    return out;
  }

 private:
  Origin origin_;
  test::SimulatedTime time_;
  Stats stats_;
  std::shared_ptr<SessionRegistry> registry_;
};

// A relay's session "s1" left with guards open on three paths (the default
// tier, the internal tier, a named tier) and two sessions open under auth
// root "acme", detached: in its grace period.
pb::Checkpoint CaptureWithOpenGuards(Sidecar& sidecar) {
  auto attached = sidecar.registry().Attach("s1", "relay-a", nullptr);
  EXPECT_TRUE(attached.ok()) << attached.status();
  absl::Status applied = sidecar.registry().Apply(
      attached->attachment,
      BatchBuilder(1)
          .Define(1, "acme/cam")
          .DefineLabelled(2, "acme/cam", "internal")
          .DefineLabelled(3, "acme/mic", "edge")
          .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).announced_opened(1).announced_bytes(8).bytes(100).frames(4))
          .Add(DeltaFor(1, kSubRole).subscriptions_opened(2).fetches(3))
          .Add(DeltaFor(2, kSubRole).subscriptions_opened(1).bytes(40).datagrams(2))
          .Add(DeltaFor(3, kPubRole).broadcasts_opened(1).bytes(7))
          .DefinePresence(4, "acme")
          .Add(DeltaFor(4, kPubRole).sessions_opened(3).sessions_closed(1)));
  EXPECT_TRUE(applied.ok()) << applied;
  sidecar.registry().Detach(attached->attachment);
  return sidecar.registry().Capture(1'700'000'000'000);
}

TEST(SessionRegistryCheckpointPathsTest, ARestartResumesEveryPathsCountersAndGraceClosesWhatWasHeld) {
  Sidecar before;
  const pb::Checkpoint checkpoint = CaptureWithOpenGuards(before);
  EXPECT_EQ(checkpoint.paths_size(), 3);
  EXPECT_EQ(checkpoint.presence_size(), 1);
  const auto captured = before.Paths();

  Sidecar after;
  absl::Status restored = after.registry().Restore(checkpoint);
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_EQ(after.Paths(), captured);
  EXPECT_EQ(after.Paths().at("|acme/cam")[0].bytes, 100u);
  EXPECT_EQ(after.Paths().at("|acme/cam")[1].fetches, 3u);
  EXPECT_EQ(after.Paths().at("internal|acme/cam")[1].datagrams, 2u);
  EXPECT_EQ(after.Paths().at("edge|acme/mic")[0].broadcasts, 1u);
  EXPECT_EQ(after.Roots(), before.Roots());
  EXPECT_EQ(after.Roots().at("|acme"), std::make_pair(uint64_t{3}, uint64_t{1}));

  // The relay never comes back: its grace runs out and every guard it held
  // is closed, each exactly once.
  after.Advance(kGrace);
  ASSERT_EQ(after.registry().counts().expired, 1u);
  for (const auto& [key, roles] : after.Paths()) {
    for (const Counts& c : roles) {
      EXPECT_EQ(c.broadcasts_closed, c.broadcasts) << key;
      EXPECT_EQ(c.subscriptions_closed, c.subscriptions) << key;
      EXPECT_EQ(c.announced_closed, c.announced) << key;
    }
  }
  EXPECT_EQ(after.Paths().at("|acme/cam")[0].bytes, 100u);
  EXPECT_EQ(after.Roots().at("|acme"), std::make_pair(uint64_t{3}, uint64_t{3}));
}

TEST(SessionRegistryCheckpointPathsTest, WithoutPathCountersTheHeldGuardsCountAgainAsOpened) {
  Sidecar before;
  pb::Checkpoint checkpoint = CaptureWithOpenGuards(before);
  checkpoint.clear_paths();  // as written with the node format off
  checkpoint.clear_presence();

  Sidecar after;
  absl::Status restored = after.registry().Restore(checkpoint);
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_EQ(after.Paths().at("|acme/cam")[0].broadcasts, 1u);
  EXPECT_EQ(after.Paths().at("|acme/cam")[0].bytes, 0u);  // sums are not in the record
  EXPECT_EQ(after.Roots().at("|acme"), std::make_pair(uint64_t{2}, uint64_t{0}));
  after.Advance(kGrace);
  EXPECT_EQ(after.Roots().at("|acme"), std::make_pair(uint64_t{2}, uint64_t{2}));
  ASSERT_EQ(after.registry().counts().expired, 1u);
  for (const auto& [key, roles] : after.Paths()) {
    for (const Counts& c : roles) {
      EXPECT_EQ(c.broadcasts_closed, c.broadcasts) << key;
      EXPECT_EQ(c.subscriptions_closed, c.subscriptions) << key;
      EXPECT_EQ(c.announced_closed, c.announced) << key;
    }
  }
}

TEST(SessionRegistryCheckpointPathsTest, PathCountsThatBreakTheInvariantsAreRefusedWhole) {
  Sidecar before;
  const pb::Checkpoint good = CaptureWithOpenGuards(before);

  // More closed than opened on a path.
  pb::Checkpoint closed_above = good;
  for (pb::CheckpointPath& p : *closed_above.mutable_paths()) {
    if (p.tier_label() == "edge") p.mutable_publisher()->set_broadcasts_closed(2);
  }
  Sidecar a;
  absl::Status s = a.registry().Restore(closed_above);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("path \"acme/mic\" tier \"edge\""));
  EXPECT_TRUE(a.Paths().empty());
  EXPECT_EQ(a.registry().counts().known, 0u);

  // A session holding a guard its path no longer counts open.
  pb::Checkpoint held_above = good;
  for (pb::CheckpointPath& p : *held_above.mutable_paths()) {
    if (p.tier_label().empty()) p.mutable_subscriber()->set_subscriptions_closed(1);
  }
  Sidecar b;
  s = b.registry().Restore(held_above);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("session \"s1\" holds 2 subscriptions open on path \"acme/cam\""));
  EXPECT_TRUE(b.Paths().empty());

  // More sessions closed than opened under an auth root, and a session
  // holding more open than its root counts.
  pb::Checkpoint sessions_above = good;
  sessions_above.mutable_presence(0)->set_sessions_closed(4);
  Sidecar c;
  s = c.registry().Restore(sessions_above);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("presence of \"acme\""));
  pb::Checkpoint held_sessions = good;
  held_sessions.mutable_presence(0)->set_sessions_closed(2);
  Sidecar d;
  s = d.registry().Restore(held_sessions);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("holds 2 sessions open on auth root \"acme\""));
  EXPECT_TRUE(d.Roots().empty());
}

}  // namespace
}  // namespace moq_stats::server
