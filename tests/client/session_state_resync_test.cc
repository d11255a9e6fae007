// SessionState on a welcome that finds the sidecar's record lost (not
// resumed, or applied below what was acknowledged): one resync batch, with
// the guards open and the sums never acknowledged.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>
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

TEST(SessionStateTest, AFreshFirstWelcomeDoesNotResync) {
  SessionState state(1024, 16);
  auto h = NewHandle(1, "a");
  state.Track(h);
  OpenBroadcast(*h, kPub);  // a guard open before the sidecar is reached
  EXPECT_TRUE(state.OnWelcome(false, 0).empty());
  EXPECT_EQ(state.resyncs(), 0u);
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_FALSE(batches[0].resync());
  EXPECT_EQ(batches[0].defines_size(), 1);
}

// Two handles with guards open, a batch acknowledged and one in flight.
struct LostSetup {
  SessionState state{1024, 16};
  std::shared_ptr<Handle> a = NewHandle(1, "live/a");
  std::shared_ptr<Handle> b = NewHandle(2, "vod/b", Tier::kInternal);
  std::vector<pb::Batch> acked_batches;
  std::vector<pb::Batch> unacked_batches;
  HandleValues a_acked, b_acked;

  LostSetup() {
    EXPECT_TRUE(state.OnWelcome(false, 0).empty());
    state.Track(a);
    state.Track(b);
    OpenBroadcast(*a, kPub, 2);
    CloseBroadcast(*a, kPub);
    OpenTrack(*a, kPub, 3);
    CloseTrack(*a, kPub);
    Bytes(*a, kPub, 1000);
    OpenTrack(*b, kSub, 4);
    Frame(*b, kSub);
    acked_batches = state.Collect();
    state.OnAck(acked_batches.back().sequence());
    a_acked = a->Load();
    b_acked = b->Load();
    // Sent, not acknowledged: more sums, one more track opened on a, one
    // closed on b.
    Bytes(*a, kPub, 234);
    Frame(*a, kPub);
    OpenTrack(*a, kPub);
    CloseTrack(*b, kSub);
    Group(*b, kSub);
    unacked_batches = state.Collect();
    EXPECT_EQ(unacked_batches.size(), 1u);
  }
};

void ExpectResyncOf(const pb::Batch& resync, const std::vector<std::shared_ptr<Handle>>& live,
                    const std::map<uint32_t, HandleValues>& acked) {
  EXPECT_TRUE(resync.resync());
  EXPECT_EQ(resync.releases_size(), 0);
  std::set<uint32_t> defined;
  for (const pb::Define& d : resync.defines()) defined.insert(d.handle());
  std::map<std::pair<uint32_t, int>, const pb::OpenGuards*> open;
  for (const pb::OpenGuards& o : resync.open()) {
    EXPECT_TRUE(open.emplace(std::make_pair(o.handle(), static_cast<int>(o.role())), &o).second)
        << "listed twice: " << o.handle();
  }
  auto sums = SumDeltas({resync});
  for (const auto& h : live) {
    EXPECT_TRUE(defined.count(h->id)) << "handle " << h->id << " is not defined in the resync";
    HandleValues now = h->Load();
    for (size_t r = 0; r < 2; ++r) {
      uint64_t broadcasts = now[r].broadcasts - now[r].broadcasts_closed;
      uint64_t subscriptions = now[r].subscriptions - now[r].subscriptions_closed;
      auto it = open.find({h->id, static_cast<int>(RoleToProto(static_cast<Role>(r)))});
      if (broadcasts == 0 && subscriptions == 0) {
        EXPECT_TRUE(it == open.end()) << "handle " << h->id << " role " << r << " has no guard open";
      } else {
        ASSERT_TRUE(it != open.end()) << "handle " << h->id << " role " << r << " not in open";
        EXPECT_EQ(it->second->broadcasts(), broadcasts) << "handle " << h->id << " role " << r;
        EXPECT_EQ(it->second->subscriptions(), subscriptions) << "handle " << h->id << " role " << r;
      }
      // Sums: what was sent and never acknowledged; no opens or closes.
      Counts want = now[r] - acked.at(h->id)[r];
      want.broadcasts = want.broadcasts_closed = want.subscriptions = want.subscriptions_closed = 0;
      EXPECT_EQ((sums[{h->id, r}]), want)
          << "handle " << h->id << " role " << r << ": " << Show(sums[{h->id, r}]) << " vs " << Show(want);
    }
  }
}

TEST(SessionStateTest, WelcomeBelowTheAckedSequenceProducesOneResync) {
  LostSetup f;
  const uint64_t acked = f.state.acked_sequence();
  ASSERT_EQ(acked, 1u);
  std::vector<pb::Batch> out = f.state.OnWelcome(true, acked - 1);
  ASSERT_EQ(out.size(), 1u) << "one resync batch, not the resends";
  EXPECT_GT(out[0].sequence(), f.unacked_batches.back().sequence());
  EXPECT_EQ(f.state.resyncs(), 1u);
  EXPECT_EQ(f.state.inflight(), 1u) << "the batches in flight are replaced by the resync";
  ExpectResyncOf(out[0], {f.a, f.b}, {{1, f.a_acked}, {2, f.b_acked}});

  // Acknowledged, it leaves nothing to send.
  f.state.OnAck(out[0].sequence());
  EXPECT_TRUE(f.state.Idle());
  EXPECT_TRUE(f.state.Collect().empty());
  EXPECT_EQ(f.state.resyncs(), 1u);
}

TEST(SessionStateTest, NotResumedAfterAnEarlierWelcomeProducesOneResync) {
  LostSetup f;
  std::vector<pb::Batch> out = f.state.OnWelcome(false, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(f.state.resyncs(), 1u);
  ExpectResyncOf(out[0], {f.a, f.b}, {{1, f.a_acked}, {2, f.b_acked}});
}

TEST(SessionStateTest, ResyncDefinesHandlesTheSidecarNeverSaw) {
  LostSetup f;
  auto c = NewHandle(3, "new/c");
  f.state.Track(c);  // tracked, never collected
  std::vector<pb::Batch> out = f.state.OnWelcome(true, 0);
  ASSERT_EQ(out.size(), 1u);
  bool defined = false;
  for (const pb::Define& d : out[0].defines()) defined |= d.handle() == 3;
  EXPECT_TRUE(defined);
  EXPECT_TRUE(DefinedBeforeUse(out));
}

TEST(SessionStateTest, AResyncTooIsResentAfterAResume) {
  LostSetup f;
  std::vector<pb::Batch> resync = f.state.OnWelcome(true, 0);
  ASSERT_EQ(resync.size(), 1u);
  // The stream breaks before the resync is acknowledged; the sidecar did not
  // apply it.
  std::vector<pb::Batch> again = f.state.OnWelcome(true, 0);
  // applied (0) is still below what was acknowledged (1): the state is lost
  // still, and a resync again is what is expected.
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].resync());
  ExpectResyncOf(again[0], {f.a, f.b}, {{1, f.a_acked}, {2, f.b_acked}});
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
