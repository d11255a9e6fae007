// SessionState: a released handle's final counts and release, and the
// handle forgotten once the release is acknowledged.
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
// Release

TEST(SessionStateTest, ReleaseSendsTheFinalCountsAndAReleaseThenForgetsTheHandleOnAck) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  auto h = NewHandle(5, "live/gone");
  auto other = NewHandle(6, "live/stays");
  state.Track(h);
  state.Track(other);
  OpenBroadcast(*h, kPub);
  OpenTrack(*h, kPub, 2);
  Bytes(*h, kPub, 10);
  OpenTrack(*other, kSub);
  std::vector<pb::Batch> first = state.Collect();
  ASSERT_TRUE(sidecar.ApplyAll(first));
  state.OnAck(sidecar.applied());

  // The relay's last bumps, every guard closed, then the handle let go of.
  Bytes(*h, kPub, 7);
  Frame(*h, kPub);
  CloseEverything(*h);
  state.Release(h->id);
  EXPECT_FALSE(state.Idle());
  std::vector<pb::Batch> last = state.Collect();
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(last[0].releases_size(), 1);
  EXPECT_EQ(last[0].releases(0), 5u);
  EXPECT_EQ(last[0].defines_size(), 0);
  ASSERT_EQ(last[0].deltas_size(), 1);
  EXPECT_EQ(last[0].deltas(0).handle(), 5u);
  EXPECT_EQ(last[0].deltas(0).bytes(), 7u);
  EXPECT_EQ(last[0].deltas(0).frames(), 1u);
  EXPECT_EQ(last[0].deltas(0).broadcasts_closed(), 1u);
  EXPECT_EQ(last[0].deltas(0).subscriptions_closed(), 2u);
  EXPECT_EQ(state.tracked(), 2u) << "kept until the release is acknowledged";
  EXPECT_TRUE(state.Collect().empty()) << "the release is not sent twice";

  ASSERT_TRUE(sidecar.ApplyAll(last));
  EXPECT_EQ(sidecar.handle_count(), 1u);
  state.OnAck(sidecar.applied());
  EXPECT_EQ(state.tracked(), 1u);
  EXPECT_TRUE(state.Idle());
  EXPECT_TRUE(state.Collect().empty());

  Counts level = sidecar.Read("live/gone", Tier::kExternal, kPub);
  EXPECT_EQ(level, h->Load()[kPub]) << Show(level);
}

TEST(SessionStateTest, AHandleReleasedBeforeItsFirstBatchIsDefinedCountedAndReleasedInOne) {
  SessionState state(1024, 16);
  auto h = NewHandle(9, "short/lived", Tier::kInternal);
  state.Track(h);
  OpenTrack(*h, kSub);
  Bytes(*h, kSub, 99);
  CloseTrack(*h, kSub);
  state.Release(9);
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].defines_size(), 1);
  EXPECT_EQ(batches[0].deltas_size(), 1);
  EXPECT_EQ(batches[0].releases_size(), 1);
  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(batches));
  EXPECT_EQ(sidecar.handle_count(), 0u);
  state.OnAck(batches[0].sequence());
  EXPECT_EQ(state.tracked(), 0u);
  EXPECT_EQ(sidecar.Read("short", Tier::kInternal, kSub).bytes, 99u);
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
