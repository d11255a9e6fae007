// SessionState against the sidecar's Session (in process): a reproducible
// workload whose batches the sidecar accepts, with totals exact after clean
// runs, resumes and expiries, and within the crash bound after a simulated
// crash and restore from an older checkpoint.

#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
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

// ---------------------------------------------------------------------------
// Against the sidecar's Session

// A reproducible workload: guards opened and closed, sums, handles created
// and released, over a few paths in both tiers.
class Workload {
 public:
  explicit Workload(SessionState* state, Record* record, uint32_t seed = 1)
      : state_(state), record_(record), rng_(seed) {}

  void Step() {
    std::uniform_int_distribution<int> pick(0, 99);
    // Now and then a new handle.
    if (live_.size() < 3 || (pick(rng_) < 10 && live_.size() < 12)) NewLiveHandle();
    for (auto& [id, l] : live_) {
      Handle& h = *l.handle;
      for (size_t r = 0; r < 2; ++r) {
        int p = pick(rng_);
        if (p < 15) {
          OpenBroadcast(h, r);
          ++l.broadcasts[r];
        } else if (p < 25 && l.broadcasts[r] > 0) {
          CloseBroadcast(h, r);
          --l.broadcasts[r];
        }
        p = pick(rng_);
        if (p < 30) {
          OpenTrack(h, r);
          ++l.tracks[r];
        } else if (p < 45 && l.tracks[r] > 0) {
          CloseTrack(h, r);
          --l.tracks[r];
        }
        if (l.tracks[r] > 0) {
          Bytes(h, r, 1 + pick(rng_) * 13);
          Frame(h, r);
          if (p % 7 == 0) Group(h, r);
        }
      }
    }
    // Now and then a handle let go of: its guards closed first.
    if (live_.size() > 4 && pick(rng_) < 8) {
      auto it = live_.begin();
      std::advance(it, pick(rng_) % live_.size());
      CloseEverything(*it->second.handle);
      state_->Release(it->first);
      live_.erase(it);
    }
  }

  // Closes every guard still open (the relay's end).
  void CloseAll() {
    for (auto& [id, l] : live_) CloseEverything(*l.handle);
  }
  void ReleaseAll() {
    for (auto& [id, l] : live_) state_->Release(id);
    live_.clear();
  }
  size_t live() const { return live_.size(); }

 private:
  struct Live {
    std::shared_ptr<Handle> handle;
    std::array<uint64_t, 2> broadcasts{};
    std::array<uint64_t, 2> tracks{};
  };
  void NewLiveHandle() {
    static const char* const kPaths[] = {"live/a", "live/b/c", "vod/x", "vod/y/z", "solo"};
    uint32_t id = next_id_++;
    auto h = NewHandle(id, absl::StrCat(kPaths[id % 5], "/", id), id % 4 == 0 ? Tier::kInternal : Tier::kExternal);
    state_->Track(h);
    record_->Add(h);
    live_[id].handle = h;
  }

  SessionState* state_;
  Record* record_;
  std::mt19937 rng_;
  uint32_t next_id_ = 1;
  std::map<uint32_t, Live> live_;
};

TEST(SessionStateSidecarTest, TheSidecarAcceptsEveryBatchAndTotalsAreExact) {
  SessionState state(7, 3);
  Sidecar sidecar;
  Record record;
  Workload work(&state, &record);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  for (int step = 0; step < 300; ++step) {
    work.Step();
    std::vector<pb::Batch> batches = state.Collect();
    for (const pb::Batch& b : batches) EXPECT_LE(Entries(b), 7);
    ASSERT_TRUE(sidecar.ApplyAll(batches)) << "step " << step;
    // Acks arrive late now and then: every third step.
    if (step % 3 == 0) state.OnAck(sidecar.applied());
  }
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_TRUE(SidecarMatches(sidecar, record));

  // The relay's end: every guard closed, every handle released.
  work.CloseAll();
  work.ReleaseAll();
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_TRUE(SidecarMatches(sidecar, record));
  EXPECT_EQ(state.tracked(), 0u);
  EXPECT_EQ(sidecar.handle_count(), 0u);
  for (const std::string& key : sidecar.LevelKeys()) {
    for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
      for (size_t r = 0; r < 2; ++r) {
        Counts v = sidecar.Read(key, tier, r);
        EXPECT_EQ(v.broadcasts, v.broadcasts_closed) << key;
        EXPECT_EQ(v.subscriptions, v.subscriptions_closed) << key;
      }
    }
  }
}

TEST(SessionStateSidecarTest, AResumeWithResendIsExact) {
  SessionState state(6, 4);
  Sidecar sidecar;
  Record record;
  Workload work(&state, &record, 7);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  std::mt19937 rng(3);
  for (int step = 0; step < 300; ++step) {
    work.Step();
    std::vector<pb::Batch> batches = state.Collect();
    // The stream breaks now and then: only some of the batches reach the
    // sidecar, and the acks of some that did are lost.
    bool breaks = step % 17 == 5;
    size_t reach = breaks && !batches.empty() ? rng() % (batches.size() + 1) : batches.size();
    ASSERT_TRUE(sidecar.ApplyAll({batches.begin(), batches.begin() + reach})) << "step " << step;
    if (breaks) {
      std::vector<pb::Batch> resend = state.OnWelcome(true, sidecar.applied());
      for (const pb::Batch& b : resend) EXPECT_GT(b.sequence(), sidecar.applied());
      ASSERT_TRUE(sidecar.ApplyAll(resend)) << "step " << step;
      EXPECT_EQ(state.resyncs(), 0u);
    }
    if (step % 2 == 0) state.OnAck(sidecar.applied());
  }
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_TRUE(SidecarMatches(sidecar, record));
  EXPECT_EQ(state.resyncs(), 0u);
  work.CloseAll();
  work.ReleaseAll();
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_TRUE(SidecarMatches(sidecar, record));
  EXPECT_EQ(sidecar.handle_count(), 0u);
}

TEST(SessionStateSidecarTest, AResentBatchThatWasAppliedIsNeverCountedTwice) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  auto h = NewHandle(1, "a");
  state.Track(h);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  Bytes(*h, kPub, 10);
  std::vector<pb::Batch> b1 = state.Collect();
  Bytes(*h, kPub, 20);
  std::vector<pb::Batch> b2 = state.Collect();
  // Both applied; the acks are lost with the stream.
  ASSERT_TRUE(sidecar.ApplyAll(b1));
  ASSERT_TRUE(sidecar.ApplyAll(b2));
  EXPECT_TRUE(state.OnWelcome(true, sidecar.applied()).empty());
  EXPECT_EQ(state.inflight(), 0u);
  EXPECT_EQ(sidecar.Read("", Tier::kExternal, kPub).bytes, 30u);
}

TEST(SessionStateSidecarTest, AnExpiredSessionIsResyncedWithExactSumsAndTheGuardsOpenNow) {
  SessionState state(8, 4);
  Sidecar sidecar;
  Record record;
  Workload work(&state, &record, 11);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  for (int step = 0; step < 60; ++step) {
    work.Step();
    ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
    state.OnAck(sidecar.applied());
  }
  // Batches sent and lost with the stream, then the grace period runs out.
  work.Step();
  std::vector<pb::Batch> lost = state.Collect();
  work.Step();  // and bumps never sent
  sidecar.Expire();
  std::vector<pb::Batch> resync = state.OnWelcome(false, 0);
  ASSERT_EQ(resync.size(), 1u);
  EXPECT_TRUE(resync[0].resync());
  EXPECT_EQ(state.resyncs(), 1u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());
  for (int step = 0; step < 30; ++step) {
    work.Step();
    ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
    state.OnAck(sidecar.applied());
  }
  ASSERT_TRUE(Drain(state, sidecar));
  // Nothing of the sums is lost (the expiry loses no applied batch and the
  // resync carries what was in flight); the guards were closed at the expiry
  // and opened again by the resync, so open minus closed is what the relay
  // holds.
  for (const std::string& key : record.Keys()) {
    for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
      for (size_t r = 0; r < 2; ++r) {
        Counts got = sidecar.Read(key, tier, r);
        Counts want = record.Expected(key, tier, r);
        EXPECT_EQ(got.bytes, want.bytes) << key;
        EXPECT_EQ(got.frames, want.frames) << key;
        EXPECT_EQ(got.groups, want.groups) << key;
        EXPECT_EQ(got.broadcasts - got.broadcasts_closed, want.broadcasts - want.broadcasts_closed) << key;
        EXPECT_EQ(got.subscriptions - got.subscriptions_closed, want.subscriptions - want.subscriptions_closed) << key;
      }
    }
  }
  work.CloseAll();
  work.ReleaseAll();
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_EQ(sidecar.handle_count(), 0u);
}

// A crash: the sidecar restarts from a checkpoint older than what the relay
// saw acknowledged. The relay resyncs once; the counts then lose at most what
// was bumped between the checkpoint and the crash, never count more than the
// relay bumped, and open meets closed once the relay's guards all close.
TEST(SessionStateSidecarTest, ACrashRestoreThenResyncStaysWithinTheCrashBound) {
  SessionState state(9, 4);
  Sidecar sidecar;
  Record record;
  Workload work(&state, &record, 23);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  auto step_acked = [&](int steps) {
    for (int i = 0; i < steps; ++i) {
      work.Step();
      ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
      state.OnAck(sidecar.applied());
    }
  };
  step_acked(80);
  ASSERT_TRUE(Drain(state, sidecar));
  Checkpoint checkpoint = sidecar.TakeCheckpoint();
  const auto at_checkpoint = record.Snapshot();
  const uint64_t checkpointed = sidecar.applied();

  // After the checkpoint: batches applied and acknowledged (lost in the
  // crash), handles made and released, then batches in flight.
  step_acked(40);
  ASSERT_GT(state.acked_sequence(), checkpointed);
  work.Step();
  std::vector<pb::Batch> in_flight = state.Collect();
  work.Step();  // bumped, not sent
  const auto at_crash = record.Snapshot();

  sidecar.Crash(checkpoint);
  ASSERT_EQ(sidecar.applied(), checkpointed);
  std::vector<pb::Batch> resync = state.OnWelcome(true, sidecar.applied());
  ASSERT_EQ(resync.size(), 1u);
  EXPECT_TRUE(resync[0].resync());
  EXPECT_EQ(state.resyncs(), 1u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());

  step_acked(40);
  work.CloseAll();
  work.ReleaseAll();
  ASSERT_TRUE(Drain(state, sidecar));

  for (const auto& [k, final_value] : record.Snapshot()) {
    const auto& [key, tier_int, r] = k;
    Tier tier = static_cast<Tier>(tier_int);
    Counts got = sidecar.Read(key, tier, r);
    // The crash bound: lost at most what was bumped from the checkpoint to
    // the crash.
    auto value_at = [&](const auto& snapshot) {
      auto it = snapshot.find(k);
      return it == snapshot.end() ? Counts{} : it->second;  // a level made later
    };
    Counts bumped_between = value_at(at_crash) - value_at(at_checkpoint);
    Counts lo = final_value - bumped_between;
    std::string where = absl::StrCat("level \"", key, "\" tier ", tier_int, " role ", r, ": sidecar ", Show(got),
                                     ", relay ", Show(final_value), ", lower bound ", Show(lo));
    EXPECT_LE(got.broadcasts, final_value.broadcasts) << where;
    EXPECT_LE(got.broadcasts_closed, final_value.broadcasts_closed) << where;
    EXPECT_LE(got.subscriptions, final_value.subscriptions) << where;
    EXPECT_LE(got.subscriptions_closed, final_value.subscriptions_closed) << where;
    EXPECT_LE(got.bytes, final_value.bytes) << where;
    EXPECT_LE(got.frames, final_value.frames) << where;
    EXPECT_LE(got.groups, final_value.groups) << where;
    EXPECT_GE(got.broadcasts, lo.broadcasts) << where;
    EXPECT_GE(got.broadcasts_closed, lo.broadcasts_closed) << where;
    EXPECT_GE(got.subscriptions, lo.subscriptions) << where;
    EXPECT_GE(got.subscriptions_closed, lo.subscriptions_closed) << where;
    EXPECT_GE(got.bytes, lo.bytes) << where;
    EXPECT_GE(got.frames, lo.frames) << where;
    EXPECT_GE(got.groups, lo.groups) << where;
    // Every guard closed in the relay: closed on the sidecar too.
    EXPECT_EQ(got.broadcasts, got.broadcasts_closed) << where;
    EXPECT_EQ(got.subscriptions, got.subscriptions_closed) << where;
  }
  // The crash did lose something (the acknowledged batches after the
  // checkpoint); the batches in flight at the crash went into the resync.
  EXPECT_FALSE(in_flight.empty());
  uint64_t lost_bytes = 0;
  for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
    for (size_t r = 0; r < 2; ++r) lost_bytes += record.Expected("", tier, r).bytes - sidecar.Read("", tier, r).bytes;
  }
  EXPECT_GT(lost_bytes, 0u) << "the scenario lost nothing: the checkpoint was not older than the acks";
  auto open = sidecar.open_guards();
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(open[r].broadcasts, 0u);
    EXPECT_EQ(open[r].subscriptions, 0u);
  }
}

// The resync states the guards open as of the last batch sent (what the
// sidecar's record should be at that batch); guards opened or closed after it
// follow as ordinary deltas in the next batch. Together they bring the
// sidecar's record to the guards open now.
TEST(SessionStateSidecarTest, GuardsChangedAfterTheLastBatchAreSettledByTheResyncAndTheNextBatch) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  auto h = NewHandle(1, "live/a");
  state.Track(h);
  OpenBroadcast(*h, kPub, 3);
  OpenTrack(*h, kPub, 5);
  ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
  state.OnAck(sidecar.applied());
  Checkpoint checkpoint = sidecar.TakeCheckpoint();
  CloseTrack(*h, kPub, 2);
  ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
  state.OnAck(sidecar.applied());
  // After the last batch: two broadcast guards closed, one track opened.
  CloseBroadcast(*h, kPub, 2);
  OpenTrack(*h, kPub);
  sidecar.Crash(checkpoint);
  std::vector<pb::Batch> resync = state.OnWelcome(true, sidecar.applied());
  ASSERT_EQ(resync.size(), 1u);
  ASSERT_EQ(resync[0].open_size(), 1);
  EXPECT_EQ(resync[0].open(0).broadcasts(), 3u) << "as of the last batch sent";
  EXPECT_EQ(resync[0].open(0).subscriptions(), 3u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());
  ASSERT_TRUE(Drain(state, sidecar));
  auto open = sidecar.open_guards();
  EXPECT_EQ(open[kPub].broadcasts, 1u) << "the guards open now";
  EXPECT_EQ(open[kPub].subscriptions, 4u);
  Counts root = sidecar.Read("", Tier::kExternal, kPub);
  EXPECT_EQ(root.broadcasts - root.broadcasts_closed, 1u);
  EXPECT_EQ(root.subscriptions - root.subscriptions_closed, 4u);
}

// Regression: after a crash, a handle the relay released (and forgot) after
// the sidecar's last checkpoint came back with the restored session and
// stayed defined until the session ended. The resync now sets
// release_unlisted, so the sidecar releases every handle it does not define.
TEST(SessionStateSidecarTest, AHandleReleasedAfterTheCheckpointDoesNotOutliveTheResync) {
  SessionState state(1024, 16);
  Sidecar sidecar;
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  auto h = NewHandle(1, "gone/soon");
  state.Track(h);
  OpenBroadcast(*h, kPub);
  OpenTrack(*h, kPub);
  Bytes(*h, kPub, 10);
  ASSERT_TRUE(Drain(state, sidecar));
  Checkpoint checkpoint = sidecar.TakeCheckpoint();
  CloseEverything(*h);
  state.Release(h->id);
  ASSERT_TRUE(Drain(state, sidecar));
  ASSERT_EQ(state.tracked(), 0u);
  ASSERT_EQ(sidecar.handle_count(), 0u);

  sidecar.Crash(checkpoint);
  ASSERT_EQ(sidecar.handle_count(), 1u) << "restored with the checkpoint";
  std::vector<pb::Batch> resync = state.OnWelcome(true, sidecar.applied());
  ASSERT_EQ(resync.size(), 1u);
  ASSERT_TRUE(sidecar.ApplyAll(resync));
  state.OnAck(sidecar.applied());
  Counts level = sidecar.Read("gone", Tier::kExternal, kPub);
  EXPECT_EQ(level.broadcasts, level.broadcasts_closed);
  EXPECT_EQ(level.subscriptions, level.subscriptions_closed);
  EXPECT_EQ(sidecar.handle_count(), 0u) << "the relay holds no handle, its session still has one";
}

TEST(SessionStateSidecarTest, ACrashRightAfterACheckpointLosesNothing) {
  SessionState state(16, 4);
  Sidecar sidecar;
  Record record;
  Workload work(&state, &record, 5);
  ASSERT_TRUE(state.OnWelcome(false, 0).empty());
  for (int i = 0; i < 50; ++i) {
    work.Step();
    ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
    state.OnAck(sidecar.applied());
  }
  // Batches applied but not acknowledged, then a checkpoint, then the crash:
  // the checkpoint is at or above what was acknowledged, so there is no
  // resync, only resends, and nothing is lost.
  work.Step();
  ASSERT_TRUE(sidecar.ApplyAll(state.Collect()));
  work.Step();
  std::vector<pb::Batch> unapplied = state.Collect();
  Checkpoint checkpoint = sidecar.TakeCheckpoint();
  sidecar.Crash(checkpoint);
  std::vector<pb::Batch> resend = state.OnWelcome(true, sidecar.applied());
  EXPECT_EQ(state.resyncs(), 0u);
  ASSERT_TRUE(sidecar.ApplyAll(resend));
  state.OnAck(sidecar.applied());
  ASSERT_TRUE(Drain(state, sidecar));
  EXPECT_TRUE(SidecarMatches(sidecar, record));
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
