// The SessionRegistry's checkpoint: Capture and Restore, including a capture
// taken while batches are being applied.

#include <array>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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
using test::ExpectAllClosed;
using test::Flat;
using test::kExt;
using test::kGrace;
using test::kInt;
using test::kInterval;
using test::kIntTier;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::LevelCounts;
using test::OpenTraffic;
using test::SessionRegistryTest;
using test::Snap;
using test::StatsFixture;
using ::testing::HasSubstr;

// Guards opened minus guards closed, summed over every level, tier and role.
uint64_t OpenOnLevels(const Stats& stats) {
  uint64_t open = 0;
  for (const auto& [key, counts] : AllCounts(stats)) {
    for (const Counts& s : counts)
      open += (s.broadcasts - s.broadcasts_closed) + (s.subscriptions - s.subscriptions_closed);
  }
  return open;
}

// ---------------------------------------------------------------------------
// Capture and Restore

// Level key -> external publisher bytes, and the sum of the sessions'
// applied sequences, as a checkpoint has them.
struct CaptureView {
  std::map<std::string, uint64_t> ext_pub_bytes;
  std::map<std::string, uint64_t> applied;
};
CaptureView View(const pb::Checkpoint& checkpoint) {
  CaptureView view;
  for (const auto& level : checkpoint.levels()) view.ext_pub_bytes[level.key()] = level.external_publisher().bytes();
  for (const auto& session : checkpoint.sessions()) view.applied[session.session_id()] = session.applied_sequence();
  return view;
}

TEST_F(SessionRegistryTest, CaptureAndRestoreIntoAFreshSidecar) {
  // s1 and s2 detached in their grace period, s3 closed, s4 expired.
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  ApplyOk(s1.attachment, BatchBuilder(3).Add(DeltaFor(1, kPubRole).subscriptions_closed(1).bytes(9)));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, BatchBuilder(7)
                             .Define(5, "a/c", kIntTier)
                             .Define(6, "d/e")
                             .Add(DeltaFor(5, kSubRole).broadcasts_opened(2).subscriptions_opened(1).frames(3))
                             .Add(DeltaFor(6, kPubRole).broadcasts_opened(1).bytes(77)));
  auto s3 = AttachOk("s3");
  ApplyOk(s3.attachment, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kSubRole).subscriptions_opened(4).bytes(2)));
  registry_->Close(s3.attachment);
  auto s4 = AttachOk("s4");
  ApplyOk(s4.attachment, BatchBuilder(2).Define(1, "z").Add(DeltaFor(1, kPubRole).subscriptions_opened(1).bytes(5)));
  registry_->Detach(s4.attachment);
  f_.Advance(absl::Seconds(3));
  // Both still in their grace period at the capture.
  registry_->Detach(s1.attachment);
  registry_->Detach(s2.attachment);
  f_.Advance(kGrace - absl::Seconds(3));
  ASSERT_EQ(registry_->counts().expired, 1u);  // s4
  ASSERT_EQ(registry_->counts().known, 2u);    // s1, s2

  pb::Checkpoint checkpoint = registry_->Capture(1'700'000'123'456);
  EXPECT_EQ(checkpoint.format(), 1u);
  EXPECT_EQ(checkpoint.taken_unix_ms(), 1'700'000'123'456);
  EXPECT_EQ(View(checkpoint).applied, (std::map<std::string, uint64_t>{{"s1", 3}, {"s2", 7}}));
  const LevelCounts captured = AllCounts(f_.stats());
  EXPECT_EQ(checkpoint.levels_size(), static_cast<int>(captured.size()));

  // A fresh sidecar.
  StatsFixture g(2);
  auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
  absl::Status s = restored->Restore(checkpoint);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(AllCounts(g.stats()), captured);
  EXPECT_EQ(restored->counts().known, 2u);
  EXPECT_EQ(restored->counts().attached, 0u);
  // A level with open subscriptions publishes; one without does not.
  for (const auto& [key, counts] : AllCounts(g.stats())) {
    auto level = g.stats().level(Path(key));
    EXPECT_EQ(level->publisher_running(), level->any_active()) << "level \"" << key << "\"";
  }
  EXPECT_TRUE(g.stats().level(Path("a/b"))->publisher_running());
  EXPECT_TRUE(g.stats().level(Path("a/c"))->publisher_running());
  EXPECT_FALSE(g.stats().level(Path("d/e"))->publisher_running());
  EXPECT_FALSE(g.stats().level(Path("z"))->publisher_running());
  EXPECT_EQ(g.stats().running_publishers(), 4);  // "", "a", "a/b", "a/c"
  EXPECT_EQ(Flat(*restored->OpenGuards("s1")), (std::array<uint64_t, 4>{1, 1, 3, 4}));
  EXPECT_EQ(Flat(*restored->OpenGuards("s2")), (std::array<uint64_t, 4>{1, 0, 2, 1}));

  // s1 resumes where it was and goes on.
  auto r1 = restored->Attach("s1", "relay-s1", nullptr);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_TRUE(r1->resumed);
  EXPECT_EQ(r1->applied_sequence, 3u);
  EXPECT_EQ(restored->Apply(r1->attachment, BatchBuilder(3)).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(restored->Apply(r1->attachment, BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_closed(2))).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(restored->Apply(r1->attachment, BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_closed(1))).ok());

  // s2 is not resumed: its grace period, started by the restore, closes its
  // guards, exactly on time.
  const Counts ac_before = g.Read("a/c", kInt, kSub);
  g.Advance(kGrace - absl::Milliseconds(1));
  EXPECT_EQ(g.Read("a/c", kInt, kSub), ac_before);
  EXPECT_EQ(restored->counts().expired, 0u);
  g.Advance(absl::Milliseconds(1));
  EXPECT_EQ(restored->counts().expired, 1u);
  EXPECT_EQ(g.Read("a/c", kInt, kSub), Snap(4, 2, 4, 1, 0, 10));  // s2's part closed, s1's open
  EXPECT_EQ(g.Read("d/e", kExt, kPub), Snap(1, 1, 0, 0, 77));
  restored->Close(r1->attachment);
  ExpectAllClosed(g.stats());
  g.Advance(2 * kInterval);  // the final frames, then the end of the linger
  EXPECT_EQ(g.stats().running_publishers(), 0);
}

TEST_F(SessionRegistryTest, RestoreKeepsEachLevelsCreationTime) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).subscriptions_opened(1).bytes(3)));
  f_.Advance(absl::Seconds(7));
  ApplyOk(s1.attachment, BatchBuilder(2).Define(2, "c/d").Add(DeltaFor(2, kPubRole).subscriptions_opened(1).bytes(4)));
  std::map<std::string, int64_t> created;
  for (const auto& level : f_.stats().ListLevels(Path(), std::nullopt, 100)) {
    created[level->key().str()] = level->created_unix_ms();
  }
  ASSERT_EQ(created.size(), 5u);  // "", "a", "a/b", "c", "c/d"
  EXPECT_EQ(created["c"] - created["a"], 7'000);
  pb::Checkpoint checkpoint = registry_->Capture(f_.time().clock().UnixMillis());
  for (const auto& level : checkpoint.levels()) {
    EXPECT_EQ(int64_t(level.created_unix_ms()), created[level.key()]) << "level \"" << level.key() << "\"";
  }

  // A sidecar restarted an hour later: the levels are the same incarnations.
  StatsFixture g(2);
  g.Advance(absl::Hours(1));
  auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
  ASSERT_TRUE(restored->Restore(checkpoint).ok());
  for (const auto& [key, when] : created) {
    auto level = g.stats().level(Path(key));
    ASSERT_NE(level, nullptr) << key;
    EXPECT_EQ(level->created_unix_ms(), when) << "level \"" << key << "\"";
  }
  // A level first seen after the restart is created at the restart's time.
  auto r1 = restored->Attach("s1", "relay-s1", nullptr);
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_TRUE(restored
                  ->Apply(r1->attachment,
                          BatchBuilder(3).Define(3, "e/f").Add(DeltaFor(3, kPubRole).subscriptions_opened(1).bytes(1)))
                  .ok());
  EXPECT_EQ(g.stats().level(Path("e"))->created_unix_ms(), g.time().clock().UnixMillis());
  restored->Close(r1->attachment);
  registry_->Close(s1.attachment);
}

TEST_F(SessionRegistryTest, RestoredSessionsThatNobodyResumesExpire) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(5));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, BatchBuilder(2).Define(3, "q").Add(DeltaFor(3, kSubRole).subscriptions_opened(2)));
  pb::Checkpoint checkpoint = registry_->Capture(0);

  StatsFixture g(2);
  auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
  ASSERT_TRUE(restored->Restore(checkpoint).ok());
  EXPECT_GT(OpenOnLevels(g.stats()), 0u);
  g.Advance(kGrace);
  EXPECT_EQ(restored->counts().expired, 2u);
  EXPECT_EQ(OpenOnLevels(g.stats()), 0u);
  ExpectAllClosed(g.stats());
  g.Advance(kInterval);
  EXPECT_EQ(g.stats().running_publishers(), 0);
  // Forgotten: the ids start new sessions.
  auto again = restored->Attach("s1", "r", nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->resumed);
}

TEST_F(SessionRegistryTest, RestoreRefusesAnotherFormat) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  pb::Checkpoint checkpoint = registry_->Capture(0);
  for (uint32_t format : {0u, 2u}) {
    checkpoint.set_format(format);
    StatsFixture g(2);
    auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
    absl::Status s = restored->Restore(checkpoint);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(g.stats().level_count(), 0u);
    EXPECT_EQ(restored->counts().known, 0u);
  }
}

TEST_F(SessionRegistryTest, RestoreRefusesCountsThatBreakTheInvariantsWhole) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  const pb::Checkpoint checkpoint = registry_->Capture(0);
  // The root lost its external publisher broadcast: closing the one s1
  // holds would take the closed count above it.
  pb::Checkpoint lost_open = checkpoint;
  for (pb::CheckpointLevel& level : *lost_open.mutable_levels()) {
    if (level.key().empty()) level.mutable_external_publisher()->set_broadcasts(0);
  }
  // More subscriptions closed than opened on "a".
  pb::Checkpoint closed_above = checkpoint;
  for (pb::CheckpointLevel& level : *closed_above.mutable_levels()) {
    if (level.key() == "a") level.mutable_external_publisher()->set_subscriptions_closed(3);
  }
  for (const pb::Checkpoint& bad : {lost_open, closed_above}) {
    StatsFixture g(2);
    auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
    absl::Status s = restored->Restore(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(g.stats().level_count(), 0u) << s;
    EXPECT_EQ(restored->counts().known, 0u) << s;
  }
}

TEST_F(SessionRegistryTest, RestoreKeepsTheGoodSessionsPastABadOne) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(4));
  auto s3 = AttachOk("s3");
  ApplyOk(s3.attachment, BatchBuilder(9).Define(2, "q").Add(DeltaFor(2, kPubRole).broadcasts_opened(1)));
  pb::Checkpoint checkpoint = registry_->Capture(0);
  // "s2", between them, lists handle 1 twice.
  pb::Checkpoint edited;
  edited.set_format(checkpoint.format());
  *edited.mutable_levels() = checkpoint.levels();
  for (const auto& session : checkpoint.sessions()) {
    *edited.add_sessions() = session;
    if (session.session_id() == "s1") {
      pb::CheckpointSession* bad = edited.add_sessions();
      bad->set_session_id("s2");
      bad->set_applied_sequence(3);
      for (int i = 0; i < 2; ++i) {
        pb::CheckpointHandle* h = bad->add_handles();
        h->set_handle(1);
        h->set_path("a/b");
        h->set_tier(pb::TIER_EXTERNAL);
      }
    }
  }

  StatsFixture g(2);
  auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
  absl::Status s = restored->Restore(edited);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("s2"));
  EXPECT_EQ(AllCounts(g.stats()), AllCounts(f_.stats()));
  EXPECT_EQ(restored->counts().known, 2u);
  EXPECT_EQ(restored->OpenGuards("s2").status().code(), absl::StatusCode::kNotFound);
  auto r1 = restored->Attach("s1", "r", nullptr);
  auto r2 = restored->Attach("s2", "r", nullptr);
  auto r3 = restored->Attach("s3", "r", nullptr);
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  EXPECT_TRUE(r1->resumed);
  EXPECT_EQ(r1->applied_sequence, 4u);
  EXPECT_FALSE(r2->resumed);
  EXPECT_EQ(r2->applied_sequence, 0u);
  EXPECT_TRUE(r3->resumed);
  EXPECT_EQ(r3->applied_sequence, 9u);
  restored->Close(r1->attachment);
  restored->Close(r3->attachment);
  ExpectAllClosed(g.stats());
}

TEST_F(SessionRegistryTest, RestoreRefusesASessionListedTwice) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(2));
  pb::Checkpoint checkpoint = registry_->Capture(0);
  *checkpoint.add_sessions() = checkpoint.sessions(0);
  StatsFixture g(2);
  auto restored = SessionRegistry::Create(g.stats(), &g.time().scheduler(), &g.time().clock(), DefaultOptions());
  absl::Status s = restored->Restore(checkpoint);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("s1"));
  EXPECT_EQ(restored->counts().known, 1u);
  EXPECT_EQ(AllCounts(g.stats()), AllCounts(f_.stats()));
  // The one kept record expires alone: everything closes exactly once.
  g.Advance(kGrace);
  ExpectAllClosed(g.stats());
}

// Two relays apply one-byte batches on their own paths while the main thread
// captures: in every capture, the bytes on each level are exactly the
// batches the captured sessions applied (sequences 1..n, one byte each).
TEST_F(SessionRegistryTest, CaptureIsAConsistentCutUnderConcurrentBatches) {
  constexpr uint64_t kBatches = 2000;
  auto s1 = AttachOk("s1");
  auto s2 = AttachOk("s2");
  std::atomic<int> running{2};  // seq_cst: the main thread stops capturing once both are done
  std::atomic<bool> go{false};  // seq_cst: the relays start once the main thread captures
  auto relay = [&](const Attachment& attachment, const std::string& path) {
    while (!go.load()) std::this_thread::yield();
    for (uint64_t seq = 1; seq <= kBatches; ++seq) {
      BatchBuilder batch(seq);
      if (seq == 1) batch.Define(1, path);
      absl::Status s = registry_->Apply(attachment, batch.Add(DeltaFor(1, kPubRole).bytes(1)));
      if (!s.ok()) {
        ADD_FAILURE() << "batch " << seq << " on " << path << ": " << s;
        break;
      }
      if (seq % 16 == 0) std::this_thread::yield();  // spread the batches over many captures
    }
    running.fetch_sub(1);
  };
  std::thread t1(relay, s1.attachment, "a/x");
  std::thread t2(relay, s2.attachment, "b/y");

  int captures = 0;
  int partial = 0;  // captures taken mid-way, for the log
  bool consistent = true;
  bool last = false;
  // Stops at the first inconsistent capture, but always joins the threads.
  while (!last && consistent) {
    last = running.load() == 0;
    CaptureView view = View(registry_->Capture(captures));
    ++captures;
    go.store(true);
    std::this_thread::yield();  // let the relays in between captures
    const uint64_t a = view.applied["s1"];
    const uint64_t b = view.applied["s2"];
    if ((a != 0 && a != kBatches) || (b != 0 && b != kBatches)) ++partial;
    const std::map<std::string, uint64_t> want = {{"", a + b}, {"a", a}, {"a/x", a}, {"b", b}, {"b/y", b}};
    for (const auto& [key, bytes] : want) {
      if (view.ext_pub_bytes[key] != bytes) {
        ADD_FAILURE() << "capture " << captures << ": level \"" << key << "\" has " << view.ext_pub_bytes[key]
                      << " bytes, the captured sessions applied " << bytes << " (s1 " << a << ", s2 " << b << ")";
        consistent = false;
      }
    }
    if (last && consistent) {
      EXPECT_EQ(a, kBatches);
      EXPECT_EQ(b, kBatches);
    }
  }
  t1.join();
  t2.join();
  EXPECT_EQ(registry_->counts().batches_applied, 2 * kBatches);
  std::cout << captures << " captures, " << partial << " taken mid-way\n";
}

}  // namespace
}  // namespace moq_stats::server
