// SessionState's resync in parts (for a sidecar whose welcome sets
// resync_parts) and its use of an expired session's applied sequence
// (Welcome.expired_applied_sequence), against the sidecar's Session.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/src/handle.h"
#include "client/src/session_state.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "tests/client/test_tools/session_state_tools.h"

namespace moq_stats {
namespace internal {
namespace test {
namespace {

constexpr size_t kPartBytes = 8 * 1024;

// `count` handles with long paths, each with a broadcast and a track open and
// some bytes, all acknowledged by `sidecar`.
void Populate(SessionState& state, Sidecar& sidecar, Record& record, uint32_t count) {
  for (uint32_t id = 1; id <= count; ++id) {
    auto h = NewHandle(id, absl::StrCat("live/", id, "/", std::string(300, 'p')));
    state.Track(h);
    record.Add(h);
    OpenBroadcast(*h, kPub);
    OpenTrack(*h, kPub);
    Bytes(*h, kPub, id);
  }
  ASSERT_TRUE(Drain(state, sidecar));
}

// After a crash that lost everything, the resync restores every handle and
// its open guards (the acknowledged sums are what the crash lost: the crash
// bound).
::testing::AssertionResult GuardsRestored(const Sidecar& sidecar, uint64_t handles) {
  const Counts root = sidecar.Read("", Tier::kExternal, kPub);
  if (sidecar.handle_count() != handles || root.broadcasts != handles || root.subscriptions != handles ||
      root.broadcasts_closed != 0 || root.subscriptions_closed != 0) {
    return ::testing::AssertionFailure() << sidecar.handle_count() << " handles, root " << Show(root);
  }
  return ::testing::AssertionSuccess();
}

TEST(SessionStateResyncPartsTest, AResyncOverThePartSizeGoesInPartsOfOneSequence) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  Record record;
  const Checkpoint empty = sidecar.TakeCheckpoint();
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  Populate(state, sidecar, record, 200);
  sidecar.Crash(empty);  // lost everything

  state.SetResyncPartBytes(kPartBytes);
  std::vector<pb::Batch> parts = state.OnWelcome(false, 0);
  ASSERT_GE(parts.size(), 5u) << "200 handles of ~320 bytes each in parts of 8 KiB";
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_TRUE(parts[i].resync());
    EXPECT_TRUE(parts[i].release_unlisted());
    EXPECT_EQ(parts[i].sequence(), parts[0].sequence());
    EXPECT_EQ(parts[i].resync_continues(), i + 1 < parts.size()) << "part " << i;
    EXPECT_LE(parts[i].ByteSizeLong(), kPartBytes + 64) << "part " << i;
  }
  ASSERT_TRUE(sidecar.ApplyAll(parts));
  EXPECT_EQ(sidecar.applied(), parts.back().sequence());
  EXPECT_TRUE(GuardsRestored(sidecar, 200));
  EXPECT_EQ(state.OnAck(sidecar.applied()), 1u) << "the parts are one batch in flight";
  EXPECT_EQ(state.inflight(), 0u);
}

TEST(SessionStateResyncPartsTest, AStreamEndingBeforeTheLastPartGetsAWholeResyncAgain) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  Record record;
  const Checkpoint empty = sidecar.TakeCheckpoint();
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  Populate(state, sidecar, record, 100);
  sidecar.Crash(empty);
  state.SetResyncPartBytes(kPartBytes);
  std::vector<pb::Batch> parts = state.OnWelcome(false, 0);
  ASSERT_GT(parts.size(), 1u);
  // The stream broke before the last part: the sidecar applied nothing (it
  // drops the parts with the stream), and its session, resumed, still has
  // applied less than the relay saw acknowledged: a resync again, whole, of
  // a new sequence.
  ASSERT_TRUE(sidecar.ApplyAll({parts.begin(), parts.end() - 1}));
  EXPECT_EQ(sidecar.applied(), 0u);
  std::vector<pb::Batch> again = state.OnWelcome(true, 0);
  ASSERT_EQ(again.size(), parts.size());
  EXPECT_GT(again[0].sequence(), parts[0].sequence());
  EXPECT_EQ(state.resyncs(), 2u);
  sidecar.Crash(empty);  // what dropping the held parts leaves: nothing of them
  ASSERT_TRUE(sidecar.ApplyAll(again));
  EXPECT_TRUE(GuardsRestored(sidecar, 100));
}

TEST(SessionStateResyncPartsTest, WithoutPartsTheResyncIsOneBatch) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  Record record;
  const Checkpoint empty = sidecar.TakeCheckpoint();
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  Populate(state, sidecar, record, 100);
  sidecar.Crash(empty);
  std::vector<pb::Batch> parts = state.OnWelcome(false, 0);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].resync_continues());
  ASSERT_TRUE(sidecar.ApplyAll(parts));
  EXPECT_TRUE(GuardsRestored(sidecar, 100));
}

// The sums match the relay's exactly, and open minus closed is what the
// relay holds (an expiry closes guards that a resync opens again).
::testing::AssertionResult SumsAndOpenMatch(const Sidecar& sidecar, const Record& record) {
  for (const std::string& key : record.Keys()) {
    for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
      for (size_t r = 0; r < 2; ++r) {
        const Counts got = sidecar.Read(key, tier, r);
        const Counts want = record.Expected(key, tier, r);
        if (got.bytes != want.bytes || got.frames != want.frames || got.groups != want.groups ||
            got.broadcasts - got.broadcasts_closed != want.broadcasts - want.broadcasts_closed ||
            got.subscriptions - got.subscriptions_closed != want.subscriptions - want.subscriptions_closed) {
          return ::testing::AssertionFailure()
                 << "level \"" << key << "\" role " << r << ": sidecar " << Show(got) << ", relay " << Show(want);
        }
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A batch applied but not acknowledged when the session expired: told the
// expired session's applied sequence, the resync does not carry its sums.
class ExpiredSessionTest : public ::testing::TestWithParam<bool> {};

TEST_P(ExpiredSessionTest, AppliedButUnacknowledgedBatchesCountOnce) {
  const bool told = GetParam();
  SessionState state(1024, 16);
  Sidecar sidecar;
  Record record;
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  Populate(state, sidecar, record, 3);
  auto h = NewHandle(99, "live/late");
  state.Track(h);
  record.Add(h);
  OpenBroadcast(*h, kSub);
  Bytes(*h, kSub, 500);
  std::vector<pb::Batch> unacked = state.Collect();
  ASSERT_TRUE(sidecar.ApplyAll(unacked));  // applied; the ack never arrives
  const uint64_t applied = sidecar.applied();
  sidecar.Expire();

  std::vector<pb::Batch> resync = state.OnWelcome(false, 0, told ? applied : 0);
  ASSERT_EQ(resync.size(), 1u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());
  if (told) {
    EXPECT_TRUE(SumsAndOpenMatch(sidecar, record));
  } else {
    // What the sidecar's memory of expired sessions closes: without it the
    // sums of the applied batch count twice.
    EXPECT_EQ(sidecar.Read("live", Tier::kExternal, kSub).bytes, 1000u);
  }
}

INSTANTIATE_TEST_SUITE_P(ToldOrNot, ExpiredSessionTest, ::testing::Bool());

TEST(SessionStateResyncPartsTest, AnExpiredSequenceOfAnotherProcessIsIgnored) {
  SessionState state(1024, 16);
  // A fresh relay reusing an id whose earlier session applied up to 40.
  EXPECT_TRUE(state.OnWelcome(false, 0, 40).empty());
  EXPECT_EQ(state.acked_sequence(), 0u);
  EXPECT_EQ(state.resyncs(), 0u);
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
