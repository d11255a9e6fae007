// SessionState: how Collect splits its batches (max_batch_entries) and
// bounds them by the in-flight window (max_inflight).
// The batches it makes are applied to a real sidecar-side moq_stats::Session
// (tests/client/test_tools/session_state_tools.h) to show the sidecar
// accepts them.

#include <cstdint>
#include <map>
#include <memory>
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

// ---------------------------------------------------------------------------
// Splitting and the in-flight window

TEST(SessionStateTest, MaxBatchEntriesSplitsIntoBatchesWithIncreasingSequences) {
  constexpr uint32_t kMaxEntries = 10;
  SessionState state(kMaxEntries, 64);
  Record record;
  std::vector<std::shared_ptr<Handle>> handles;
  for (uint32_t id = 1; id <= 25; ++id) {
    auto h = NewHandle(id, absl::StrCat(id % 2 ? "live/" : "vod/", id), id % 3 ? Tier::kExternal : Tier::kInternal);
    state.Track(h);
    record.Add(h);
    handles.push_back(h);
    OpenBroadcast(*h, kPub);
    OpenTrack(*h, kPub, id);
    Bytes(*h, kPub, 100 * id);
    if (id % 2) {
      OpenTrack(*h, kSub);
      Frame(*h, kSub);
    }
  }
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_GT(batches.size(), 1u);
  uint64_t previous = 0;
  for (const pb::Batch& b : batches) {
    EXPECT_GT(b.sequence(), previous);
    previous = b.sequence();
    EXPECT_LE(Entries(b), static_cast<int>(kMaxEntries)) << b.DebugString();
    EXPECT_GT(Entries(b), 0);
  }
  EXPECT_TRUE(DefinedBeforeUse(batches));
  // Each handle lives in one batch: its define and its deltas together.
  std::map<uint32_t, uint64_t> batch_of;
  for (const pb::Batch& b : batches) {
    for (const pb::Define& d : b.defines()) EXPECT_TRUE(batch_of.emplace(d.handle(), b.sequence()).second);
    for (const pb::HandleDelta& d : b.deltas()) EXPECT_EQ(batch_of[d.handle()], b.sequence()) << d.handle();
  }
  EXPECT_EQ(batch_of.size(), 25u);
  auto sums = SumDeltas(batches);
  for (const auto& h : handles) {
    for (size_t r = 0; r < 2; ++r) EXPECT_EQ((sums[{h->id, r}]), h->Load()[r]) << h->id << " role " << r;
  }
  EXPECT_EQ(state.inflight(), batches.size());

  Sidecar sidecar;
  ASSERT_TRUE(sidecar.ApplyAll(batches));
  EXPECT_TRUE(SidecarMatches(sidecar, record));
}

TEST(SessionStateTest, EveryBatchStaysWithinMaxBatchEntriesEvenWithReleases) {
  // Handles that need every kind of entry (define, two deltas, release).
  for (uint32_t max_entries : {4u, 5u, 7u, 8u, 9u, 13u}) {
    SCOPED_TRACE(absl::StrCat("max_batch_entries ", max_entries));
    SessionState state(max_entries, 1000);
    for (uint32_t id = 1; id <= 20; ++id) {
      auto h = NewHandle(id, absl::StrCat("p/", id));
      state.Track(h);
      OpenTrack(*h, kPub);
      CloseTrack(*h, kPub);
      Frame(*h, kSub);
      state.Release(id);
    }
    std::vector<pb::Batch> batches = state.Collect();
    for (const pb::Batch& b : batches) EXPECT_LE(Entries(b), static_cast<int>(max_entries)) << b.DebugString();
    EXPECT_TRUE(DefinedBeforeUse(batches));
    Sidecar sidecar;
    EXPECT_TRUE(sidecar.ApplyAll(batches));
  }
}

// A handle's define, two deltas and release always go in one batch, so a
// limit below four is raised to four (the sidecar refuses
// --max-batch-entries below four for the same reason).
TEST(SessionStateTest, MaxBatchEntriesIsAtLeastFour) {
  SessionState state(3, 16);
  auto h = NewHandle(1, "a");
  state.Track(h);
  Frame(*h, kPub);
  Frame(*h, kSub);
  state.Release(1);
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(Entries(batches[0]), 4) << batches[0].DebugString();
  EXPECT_EQ(SessionState::kMinBatchEntries, 4u);
}

TEST(SessionStateTest, TheBatchLimitCanBeLoweredToTheSidecars) {
  SessionState state(1024, 16);
  state.SetMaxBatchEntries(8);
  std::vector<std::shared_ptr<Handle>> handles;
  for (uint32_t id = 1; id <= 10; ++id) {
    handles.push_back(NewHandle(id, absl::StrCat("h", id)));
    state.Track(handles.back());
    Frame(*handles.back(), kPub);
  }
  std::vector<pb::Batch> batches = state.Collect();
  ASSERT_GT(batches.size(), 1u);
  for (const pb::Batch& b : batches) EXPECT_LE(Entries(b), 8) << b.DebugString();
}

TEST(SessionStateTest, MaxInflightStopsCollectUntilAnAck) {
  SessionState state(1024, 2);
  auto h = NewHandle(1, "a");
  state.Track(h);
  Bytes(*h, kPub, 1);
  ASSERT_EQ(state.Collect().size(), 1u);  // sequence 1
  Bytes(*h, kPub, 2);
  ASSERT_EQ(state.Collect().size(), 1u);  // sequence 2
  EXPECT_EQ(state.inflight(), 2u);
  Bytes(*h, kPub, 4);
  EXPECT_TRUE(state.Collect().empty()) << "two batches in flight already";
  Bytes(*h, kPub, 8);
  EXPECT_TRUE(state.Collect().empty());
  EXPECT_EQ(state.inflight(), 2u);
  EXPECT_FALSE(state.Idle());

  state.OnAck(1);
  std::vector<pb::Batch> next = state.Collect();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence(), 3u);
  ASSERT_EQ(next[0].deltas_size(), 1);
  EXPECT_EQ(next[0].deltas(0).bytes(), 12u) << "the bumps held back, coalesced";
  EXPECT_TRUE(state.Collect().empty());
}

TEST(SessionStateTest, OneCollectMakesNoMoreBatchesThanTheWindowAllows) {
  SessionState state(4, 3);  // one handle per batch
  std::vector<std::shared_ptr<Handle>> handles;
  for (uint32_t id = 1; id <= 8; ++id) {
    handles.push_back(NewHandle(id, absl::StrCat("h", id)));
    state.Track(handles.back());
    Frame(*handles.back(), kPub);
  }
  std::vector<pb::Batch> all;
  std::vector<pb::Batch> first = state.Collect();
  EXPECT_EQ(first.size(), 3u);
  EXPECT_EQ(state.inflight(), 3u);
  EXPECT_TRUE(state.Collect().empty());
  all.insert(all.end(), first.begin(), first.end());
  for (int round = 0; round < 10 && !state.Idle(); ++round) {
    state.OnAck(all.back().sequence());
    std::vector<pb::Batch> more = state.Collect();
    EXPECT_LE(more.size(), 3u);
    all.insert(all.end(), more.begin(), more.end());
  }
  state.OnAck(all.back().sequence());
  EXPECT_TRUE(state.Idle());
  EXPECT_TRUE(DefinedBeforeUse(all));
  auto sums = SumDeltas(all);
  for (const auto& h : handles) EXPECT_EQ((sums[{h->id, kPub}]).frames, 1u) << h->id;
}

// Regression: Collect used to walk the handles from the lowest id every time
// and stop when the in-flight window filled, so while the first handles kept
// changing a handle past the window's capacity was never sent. It now goes
// on from where it stopped.
TEST(SessionStateTest, BusyHandlesDoNotStarveTheOthersOutOfTheWindow) {
  SessionState state(4, 1);  // one handle per batch, one batch in flight
  auto busy = NewHandle(1, "busy");
  auto quiet = NewHandle(2, "quiet");
  state.Track(busy);
  state.Track(quiet);
  Bytes(*quiet, kPub, 42);
  bool quiet_sent = false;
  for (int round = 0; round < 5 && !quiet_sent; ++round) {
    Bytes(*busy, kPub, 1);
    for (const pb::Batch& b : state.Collect()) {
      for (const pb::HandleDelta& d : b.deltas()) quiet_sent |= d.handle() == quiet->id;
      state.OnAck(b.sequence());
    }
  }
  EXPECT_TRUE(quiet_sent) << "handle 2 was not sent in 5 rounds while handle 1 kept changing";
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
