// SessionState with presence handles and named tiers, against the sidecar's
// Session in process: a presence handle is sent only once the Welcome says
// the sidecar understands it (an old sidecar never sees one), its session
// guards travel as sessions_opened/closed and a resync states them open; a
// named tier's define carries its label beside TIER_EXTERNAL.

#include <memory>
#include <string>
#include <vector>

#include "client/src/handle.h"
#include "client/src/session_state.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "tests/client/test_tools/session_state_tools.h"

namespace moq_stats {
namespace internal {
namespace test {
namespace {

std::shared_ptr<Handle> NewPresence(uint32_t id, const std::string& root, const std::string& label = "") {
  return std::make_shared<Handle>(root, Tier::kExternal, id, label, /*presence=*/true);
}

// Every define of `batches`.
std::vector<pb::Define> Defines(const std::vector<pb::Batch>& batches) {
  std::vector<pb::Define> out;
  for (const pb::Batch& b : batches) out.insert(out.end(), b.defines().begin(), b.defines().end());
  return out;
}

TEST(SessionStatePresenceTest, AnOldSidecarNeverSeesAPresenceHandle) {
  SessionState state(64, 4);
  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(state.OnWelcome(false, 0)));  // no SetSessionPresence: an old sidecar
  auto cam = NewHandle(1, "acme/cam");
  auto acme = NewPresence(2, "acme");
  state.Track(cam);
  state.Track(acme);
  OpenBroadcast(*cam, kPub);
  OpenBroadcast(*acme, kPub, 2);  // two sessions
  std::vector<pb::Batch> batches = state.Collect();
  const std::vector<pb::Define> defines = Defines(batches);
  ASSERT_EQ(defines.size(), 1u);
  EXPECT_EQ(defines[0].handle(), 1u);
  for (const pb::Batch& b : batches) {
    for (const pb::HandleDelta& d : b.deltas()) EXPECT_EQ(d.handle(), 1u) << b.DebugString();
  }
  ASSERT_TRUE(sidecar.ApplyAll(batches));
  state.OnAck(sidecar.applied());
  // The withheld handle does not keep the state from being idle, and once
  // let go it is forgotten.
  EXPECT_TRUE(state.Idle());
  state.Release(2);
  EXPECT_TRUE(state.Collect().empty());
  EXPECT_EQ(state.tracked(), 1u);
}

TEST(SessionStatePresenceTest, SessionGuardsTravelAsSessionsAndAResyncStatesThemOpen) {
  SessionState state(64, 4);
  state.SetSessionPresence(true);
  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(state.OnWelcome(false, 0)));
  auto acme = NewPresence(1, "acme", "edge");
  state.Track(acme);
  OpenBroadcast(*acme, kPub, 3);
  CloseBroadcast(*acme, kPub, 1);
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].defines_size(), 1);
  EXPECT_TRUE(batches[0].defines(0).presence());
  EXPECT_EQ(batches[0].defines(0).tier_label(), "edge");
  EXPECT_EQ(batches[0].defines(0).path(), "acme");
  ASSERT_EQ(batches[0].deltas_size(), 1);
  EXPECT_EQ(batches[0].deltas(0).sessions_opened(), 3u);
  EXPECT_EQ(batches[0].deltas(0).sessions_closed(), 1u);
  EXPECT_EQ(batches[0].deltas(0).broadcasts_opened(), 0u);
  ASSERT_TRUE(sidecar.ApplyAll(batches));
  state.OnAck(sidecar.applied());
  EXPECT_EQ(sidecar.open_guards()[kPub].sessions, 2u);

  // The sidecar lost the session: the resync states the two open sessions.
  sidecar.Expire();
  std::vector<pb::Batch> resync = state.OnWelcome(false, 0);
  ASSERT_EQ(resync.size(), 1u);
  ASSERT_EQ(resync[0].open_size(), 1);
  EXPECT_EQ(resync[0].open(0).sessions(), 2u);
  EXPECT_EQ(resync[0].open(0).broadcasts(), 0u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());
  EXPECT_EQ(sidecar.open_guards()[kPub].sessions, 2u);

  // Both end; the handle is let go and released.
  CloseBroadcast(*acme, kPub, 2);
  state.Release(1);
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_EQ(sidecar.open_guards()[kPub].sessions, 0u);
  EXPECT_EQ(sidecar.handle_count(), 0u);
}

TEST(SessionStatePresenceTest, ANamedTiersDefineCarriesItsLabelBesideTheDefaultTier) {
  SessionState state(64, 4);
  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(state.OnWelcome(false, 0)));
  auto edge = std::make_shared<Handle>("acme/cam", Tier::kExternal, 1, "edge");
  state.Track(edge);
  OpenTrack(*edge, kSub);
  Bytes(*edge, kSub, 100);
  std::vector<pb::Batch> batches = state.Collect();
  const std::vector<pb::Define> defines = Defines(batches);
  ASSERT_EQ(defines.size(), 1u);
  EXPECT_EQ(defines[0].tier(), pb::TIER_EXTERNAL);  // what a sidecar without labels reads
  EXPECT_EQ(defines[0].tier_label(), "edge");
  EXPECT_FALSE(defines[0].presence());
  ASSERT_TRUE(sidecar.ApplyAll(batches));
  // A named tier counts in no level.
  EXPECT_EQ(sidecar.Read("acme/cam", Tier::kExternal, kSub), Counts{});
  EXPECT_EQ(sidecar.open_guards()[kSub].subscriptions, 1u);
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
