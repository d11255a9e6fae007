// The SessionRegistry's limits and validation: max_sessions, session ids,
// Drain, and the level limit over concurrent sessions.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/sessions/session.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using test::AllCounts;
using test::Attachment;
using test::BatchBuilder;
using test::DefaultOptions;
using test::DeltaFor;
using test::kExt;
using test::kPub;
using test::kPubRole;
using test::LevelCounts;
using test::OpenTraffic;
using test::Rejected;
using test::SessionRegistryTest;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Limits and validation

// Sessions in their grace period count toward max_sessions; who makes room
// for a newcomer is session_registry_eviction_test.cc.
TEST_F(SessionRegistryTest, MaxSessionsCountsSessionsInTheirGracePeriod) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 2;
  Recreate(options);
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, OpenTraffic(1));
  auto refused = registry_->Attach("s3", "r", nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("max_sessions"));

  registry_->Detach(s1.attachment);
  EXPECT_EQ(registry_->counts().known, 2u);
  // A known id is no new session: resuming and taking over need no room.
  auto s2_again = AttachOk("s2");
  EXPECT_TRUE(s2_again.resumed);
  EXPECT_EQ(registry_->counts().evicted, 0u);
  // A new one takes the place of the session in its grace period.
  auto s3 = AttachOk("s3");
  EXPECT_FALSE(s3.resumed);
  EXPECT_EQ(registry_->counts().evicted, 1u);
  ApplyOk(s3.attachment, OpenTraffic(1));
  EXPECT_EQ(registry_->Attach("s4", "r", nullptr).status().code(), absl::StatusCode::kResourceExhausted);
  registry_->Close(s3.attachment);
  AttachOk("s4");
  EXPECT_EQ(registry_->counts().known, 2u);
}

TEST_F(SessionRegistryTest, SessionIdsAreOneTo128BytesOfUtf8) {
  for (const std::string& bad : {std::string(), std::string(129, 'x'), std::string("\xff"), std::string("a\xc0\xaf"),
                                 std::string("\xed\xa0\x80"), std::string("ok\x80")}) {
    auto attached = registry_->Attach(bad, "r", nullptr);
    EXPECT_EQ(attached.status().code(), absl::StatusCode::kInvalidArgument) << "id of " << bad.size() << " bytes";
    EXPECT_THAT(std::string(attached.status().message()), HasSubstr("session_id"));
  }
  EXPECT_EQ(registry_->counts().known, 0u);
  AttachOk(std::string(128, 'x'));
  AttachOk("x");
  AttachOk("relais-\xc3\xa9t\xc3\xa9-\xf0\x9f\x93\xa1");
  EXPECT_EQ(registry_->counts().created, 3u);
}

TEST_F(SessionRegistryTest, DrainRefusesNewStreamsAndBatches) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  const LevelCounts before = AllCounts(f_.stats());
  EXPECT_FALSE(registry_->draining());
  registry_->Drain();
  EXPECT_TRUE(registry_->draining());

  EXPECT_EQ(registry_->Attach("s2", "r", nullptr).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Attach("s1", "r", nullptr).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Apply(s1.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1))).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Apply(s1.attachment, BatchBuilder(3)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Rejected(*registry_, RejectReason::kDraining), 2u);
  EXPECT_EQ(registry_->counts().batches_applied, 1u);
  EXPECT_EQ(AllCounts(f_.stats()), before);
  // A checkpoint can still be taken, with the session's record in it.
  pb::Checkpoint checkpoint = registry_->Capture(1);
  ASSERT_EQ(checkpoint.sessions_size(), 1);
  EXPECT_EQ(checkpoint.sessions(0).applied_sequence(), 1u);
}

TEST_F(SessionRegistryTest, DrainWaitsForTheBatchInFlight) {
  auto s1 = AttachOk("s1");
  std::atomic<uint64_t> applied{0};  // seq_cst: read by the main thread to start draining
  absl::Status last;
  std::thread relay([&] {
    for (uint64_t seq = 1;; ++seq) {
      BatchBuilder batch(seq);
      if (seq == 1) batch.Define(1, "a/b");
      absl::Status s = registry_->Apply(s1.attachment, batch.Add(DeltaFor(1, kPubRole).bytes(1)));
      if (!s.ok()) {
        last = s;
        return;
      }
      applied.fetch_add(1);
      if (seq == 1'000'000) return;  // a bound, should Drain never stop it
    }
  });
  while (applied.load() < 100) std::this_thread::yield();
  registry_->Drain();
  // Every batch was either applied before Drain returned or refused.
  const uint64_t bytes_at_drain = Read("", kExt, kPub).bytes;
  relay.join();
  EXPECT_EQ(last.code(), absl::StatusCode::kUnavailable) << last;
  EXPECT_EQ(Read("", kExt, kPub).bytes, bytes_at_drain);
  EXPECT_EQ(bytes_at_drain, applied.load());
  EXPECT_EQ(registry_->counts().batches_applied, applied.load());
  EXPECT_EQ(Rejected(*registry_, RejectReason::kDraining), 1u);
}

// ---------------------------------------------------------------------------
// Level limit

TEST(SessionRegistryLevelLimitTest, CountsTheLevelLimitRefusal) {
  Origin origin;
  ::moq_stats::test::SimulatedTime time;
  StatsConfig config;
  config.levels = 2;
  config.max_levels = 2;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok());
  auto registry = SessionRegistry::Create(*stats, &time.scheduler(), &time.clock(), DefaultOptions());
  auto s1 = registry->Attach("s1", "r", nullptr);
  ASSERT_TRUE(s1.ok());
  absl::Status s = registry->Apply(s1->attachment, BatchBuilder(1).Define(1, "a/b"));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_levels"));
  EXPECT_EQ(Rejected(*registry, RejectReason::kLevelLimit), 1u);
}

// Sessions apply their batches in parallel, so the level limit must hold
// for defines of different sessions that race each other: each round, two
// relays define new paths (one per batch, each batch long enough to widen
// any gap between the check of the limit and the creation of the levels)
// until the limit refuses them; the aggregator must never hold more than
// max_levels levels.
//
// Regression: batches of two sessions validate and commit in parallel, so
// checking the room in Validate and creating the levels in Commit let both
// take the last level of room. Validate now reserves the room
// (Stats::ReserveLevels) until Commit has created the levels.
TEST(SessionRegistryLevelLimitTest, TheLevelLimitHoldsForConcurrentSessions) {
  constexpr uint64_t kMaxLevels = 6;  // the root and five paths
  constexpr int kRounds = 100;
  constexpr int kDeltasPerBatch = 2000;
  Origin origin;
  ::moq_stats::test::SimulatedTime time;
  StatsConfig config;
  config.levels = 1;
  config.max_levels = kMaxLevels;
  config.retention = absl::Seconds(1);
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok());
  auto registry = SessionRegistry::Create(*stats, &time.scheduler(), &time.clock(), DefaultOptions());
  auto s1 = registry->Attach("s1", "r", nullptr);
  auto s2 = registry->Attach("s2", "r", nullptr);
  ASSERT_TRUE(s1.ok() && s2.ok());
  std::array<uint64_t, 2> sequence = {0, 0};
  uint64_t most = 0;
  int rounds_over = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> ready{0};  // seq_cst: a start line, so that the relays race
    auto relay = [&](int r, const Attachment& attachment) {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      std::vector<uint32_t> defined;
      for (uint32_t handle = 1; handle <= kMaxLevels; ++handle) {
        BatchBuilder batch(++sequence[r]);
        batch.Define(handle, "r" + std::to_string(r) + "-" + std::to_string(round) + "-" + std::to_string(handle));
        for (int i = 0; i < kDeltasPerBatch; ++i) batch.Add(DeltaFor(handle, kPubRole).bytes(1));
        absl::Status s = registry->Apply(attachment, batch);
        if (!s.ok()) {
          EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
          break;
        }
        defined.push_back(handle);
      }
      BatchBuilder release(++sequence[r]);
      for (uint32_t handle : defined) release.Release(handle);
      EXPECT_TRUE(registry->Apply(attachment, release).ok());
    };
    std::thread t1(relay, 0, s1->attachment);
    std::thread t2(relay, 1, s2->attachment);
    t1.join();
    t2.join();
    most = std::max<uint64_t>(most, stats->level_count());
    if (stats->level_count() > kMaxLevels) ++rounds_over;
    // Retention frees the idle levels for the next round.
    time.Advance(absl::Seconds(2));
    ASSERT_EQ(stats->level_count(), 1u) << "round " << round << ": all but the root, which is never freed";
  }
  EXPECT_EQ(rounds_over, 0) << "rounds of " << kRounds << " that ended with more than max_levels=" << kMaxLevels
                            << " levels; the most held: " << most;
  EXPECT_GE(most, kMaxLevels) << "the relays never reached the limit";
}

}  // namespace
}  // namespace moq_stats::server
