// SessionState, the sans-IO relay side of a session: what each Collect
// carries (defines, deltas of both roles, opens and closes as counts).
// The batches it makes are applied to a real sidecar-side moq_stats::Session
// (tests/client/test_tools/session_state_tools.h) to show the sidecar
// accepts them.

#include <memory>
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

// ---------------------------------------------------------------------------
// Collect

TEST(SessionStateTest, FirstCollectDefinesTheHandleAndCarriesWhatWasBumped) {
  SessionState state(1024, 16);
  auto h = NewHandle(7, "live/a", Tier::kInternal);
  state.Track(h);
  OpenBroadcast(*h, kPub);
  OpenTrack(*h, kPub, 2);
  Bytes(*h, kPub, 1200);
  Bytes(*h, kPub, 300);
  Frame(*h, kPub);
  Frame(*h, kPub);
  Group(*h, kPub);

  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  const pb::Batch& b = batches[0];
  EXPECT_EQ(b.sequence(), 1u);
  EXPECT_FALSE(b.resync());
  EXPECT_EQ(b.open_size(), 0);
  EXPECT_EQ(b.releases_size(), 0);
  ASSERT_EQ(b.defines_size(), 1);
  EXPECT_EQ(b.defines(0).handle(), 7u);
  EXPECT_EQ(b.defines(0).path(), "live/a");
  EXPECT_EQ(b.defines(0).tier(), pb::TIER_INTERNAL);
  ASSERT_EQ(b.deltas_size(), 1) << "only the publisher role was bumped";
  const pb::HandleDelta& d = b.deltas(0);
  EXPECT_EQ(d.handle(), 7u);
  EXPECT_EQ(d.role(), pb::ROLE_PUBLISHER);
  EXPECT_EQ(d.broadcasts_opened(), 1u);
  EXPECT_EQ(d.broadcasts_closed(), 0u);
  EXPECT_EQ(d.subscriptions_opened(), 2u);
  EXPECT_EQ(d.subscriptions_closed(), 0u);
  EXPECT_EQ(d.bytes(), 1500u);
  EXPECT_EQ(d.frames(), 2u);
  EXPECT_EQ(d.groups(), 1u);
  EXPECT_EQ(state.inflight(), 1u);
  EXPECT_FALSE(state.Idle());

  Sidecar sidecar;
  EXPECT_TRUE(sidecar.ApplyAll(batches));
}

TEST(SessionStateTest, AHandleNeverBumpedIsDefinedWithoutDeltas) {
  SessionState state(1024, 16);
  state.Track(NewHandle(1, "a"));
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].defines_size(), 1);
  EXPECT_EQ(batches[0].deltas_size(), 0);
  state.OnAck(1);
  EXPECT_TRUE(state.Idle());
  EXPECT_TRUE(state.Collect().empty());
}

TEST(SessionStateTest, SecondCollectWithoutBumpsReturnsNothing) {
  SessionState state(1024, 16);
  auto h = NewHandle(1, "a/b");
  state.Track(h);
  OpenTrack(*h, kSub);
  Bytes(*h, kSub, 10);
  ASSERT_EQ(state.Collect().size(), 1u);
  // Nothing bumped since: nothing to send, whether or not the first batch
  // was acknowledged.
  EXPECT_TRUE(state.Collect().empty());
  EXPECT_EQ(state.inflight(), 1u);
  state.OnAck(1);
  EXPECT_TRUE(state.Collect().empty());
  EXPECT_EQ(state.inflight(), 0u);
  EXPECT_TRUE(state.Idle());
}

TEST(SessionStateTest, ManyBumpsCoalesceIntoOneDeltaWithTheSum) {
  SessionState state(1024, 16);
  auto h = NewHandle(1, "a");
  state.Track(h);
  OpenTrack(*h, kPub);
  for (int i = 0; i < 100000; ++i) {
    Bytes(*h, kPub, 3);
    Frame(*h, kPub);
    if (i % 10 == 0) Group(*h, kPub);
  }
  std::vector<pb::Batch> first = state.Collect();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].deltas_size(), 1);
  EXPECT_EQ(first[0].deltas(0).bytes(), 300000u);
  EXPECT_EQ(first[0].deltas(0).frames(), 100000u);
  EXPECT_EQ(first[0].deltas(0).groups(), 10000u);
  EXPECT_EQ(first[0].deltas(0).subscriptions_opened(), 1u);

  // The next batch carries only what changed since, and no define again.
  for (int i = 0; i < 500; ++i) Bytes(*h, kPub, 2);
  std::vector<pb::Batch> second = state.Collect();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].sequence(), 2u);
  EXPECT_EQ(second[0].defines_size(), 0);
  ASSERT_EQ(second[0].deltas_size(), 1);
  EXPECT_EQ(second[0].deltas(0).bytes(), 1000u);
  EXPECT_EQ(second[0].deltas(0).frames(), 0u);
  EXPECT_EQ(second[0].deltas(0).subscriptions_opened(), 0u);

  Sidecar sidecar;
  EXPECT_TRUE(sidecar.ApplyAll(first));
  EXPECT_TRUE(sidecar.ApplyAll(second));
  EXPECT_EQ(sidecar.Read("", Tier::kExternal, kPub).bytes, 301000u);
}

TEST(SessionStateTest, BothRolesGetADeltaOfTheirOwn) {
  SessionState state(1024, 16);
  auto h = NewHandle(3, "x/y");
  state.Track(h);
  OpenBroadcast(*h, kPub);
  Bytes(*h, kPub, 5);
  OpenBroadcast(*h, kSub, 2);
  OpenTrack(*h, kSub, 4);
  Frame(*h, kSub);
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  auto sums = SumDeltas(batches);
  ASSERT_EQ(batches[0].deltas_size(), 2);
  EXPECT_EQ((sums[{3, kPub}]), h->Load()[kPub]);
  EXPECT_EQ((sums[{3, kSub}]), h->Load()[kSub]);

  // Only the role that changed gets a delta next time.
  Group(*h, kSub);
  std::vector<pb::Batch> next = state.Collect();
  ASSERT_EQ(next.size(), 1u);
  ASSERT_EQ(next[0].deltas_size(), 1);
  EXPECT_EQ(next[0].deltas(0).role(), pb::ROLE_SUBSCRIBER);
  EXPECT_EQ(next[0].deltas(0).groups(), 1u);
}

TEST(SessionStateTest, OpensAndClosesTravelAsCounts) {
  SessionState state(1024, 16);
  auto h = NewHandle(1, "a");
  state.Track(h);
  OpenBroadcast(*h, kPub);
  OpenTrack(*h, kPub, 3);
  CloseTrack(*h, kPub, 2);
  std::vector<pb::Batch> first = state.Collect();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].deltas_size(), 1);
  EXPECT_EQ(first[0].deltas(0).broadcasts_opened(), 1u);
  EXPECT_EQ(first[0].deltas(0).subscriptions_opened(), 3u);
  EXPECT_EQ(first[0].deltas(0).subscriptions_closed(), 2u);

  CloseTrack(*h, kPub);
  CloseBroadcast(*h, kPub);
  std::vector<pb::Batch> second = state.Collect();
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].deltas_size(), 1);
  EXPECT_EQ(second[0].deltas(0).broadcasts_opened(), 0u);
  EXPECT_EQ(second[0].deltas(0).broadcasts_closed(), 1u);
  EXPECT_EQ(second[0].deltas(0).subscriptions_opened(), 0u);
  EXPECT_EQ(second[0].deltas(0).subscriptions_closed(), 1u);

  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(first));
  ASSERT_TRUE(sidecar.ApplyAll(second));
  Counts root = sidecar.Read("", Tier::kExternal, kPub);
  EXPECT_EQ(root.broadcasts, 1u);
  EXPECT_EQ(root.broadcasts_closed, 1u);
  EXPECT_EQ(root.subscriptions, 3u);
  EXPECT_EQ(root.subscriptions_closed, 3u);
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
