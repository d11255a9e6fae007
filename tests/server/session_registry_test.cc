// Every relay session the sidecar knows: attach, resume and take-over; the
// grace period and what its expiry closes; Close and Drain; the limits; the
// self-counters; and the checkpoint's Capture and Restore, including a
// capture taken while batches are being applied.
//
// Time is simulated: the grace period and the publishers' ticks run only in
// StatsFixture::Advance. Nothing sleeps.

#include "server/session_registry.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/origin.h"
#include "server/session.h"
#include "server/stats.h"
#include "tests/server/test_tools/batch_builder.h"
#include "tests/server/test_tools/stats_fixture.h"

namespace moqstats {

// Readable failures (found by argument-dependent lookup).
static void PrintTo(const Snapshot& s, std::ostream* os) {
  *os << "{broadcasts " << s.broadcasts << ", broadcasts_closed " << s.broadcasts_closed << ", subscriptions "
      << s.subscriptions << ", subscriptions_closed " << s.subscriptions_closed << ", bytes " << s.bytes << ", frames "
      << s.frames << ", groups " << s.groups << "}";
}

namespace {

namespace pb = ::moq::stats::v1;
using testing::BatchBuilder;
using testing::DeltaFor;
using ::testing::HasSubstr;
using testing::StatsFixture;
using Attachment = SessionRegistry::Attachment;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;
constexpr Role kSub = Role::kSubscriber;
constexpr pb::Tier kIntTier = pb::TIER_INTERNAL;
constexpr pb::Role kPubRole = pb::ROLE_PUBLISHER;
constexpr pb::Role kSubRole = pb::ROLE_SUBSCRIBER;
constexpr absl::Duration kGrace = absl::Seconds(10);
constexpr absl::Duration kInterval = absl::Seconds(1);  // StatsConfig's default tick interval

// Lock-order inversions abort the test binary instead of passing unseen.
class DeadlockDetection : public ::testing::Environment {
 public:
  void SetUp() override { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort); }
};
[[maybe_unused]] ::testing::Environment* const kDeadlockDetection =
    ::testing::AddGlobalTestEnvironment(new DeadlockDetection);

// Every level's four snapshots (indexed by TierRoleIndex), by level key.
using LevelCounts = std::map<std::string, std::array<Snapshot, kTierRoleCount>>;

LevelCounts AllCounts(const Stats& stats) {
  LevelCounts out;
  std::optional<Path> after;
  for (;;) {
    auto page = stats.ListLevels(Path(), after, 1000);
    if (page.empty()) break;
    for (const auto& level : page) {
      auto& counts = out[level->key().str()];
      for (size_t i = 0; i < kTierRoleCount; ++i) counts[i] = level->snapshot(TierAt(i), RoleAt(i));
    }
    after = page.back()->key();
  }
  return out;
}

// Guards opened minus guards closed, summed over every level, tier and role.
uint64_t OpenOnLevels(const Stats& stats) {
  uint64_t open = 0;
  for (const auto& [key, counts] : AllCounts(stats)) {
    for (const Snapshot& s : counts)
      open += (s.broadcasts - s.broadcasts_closed) + (s.subscriptions - s.subscriptions_closed);
  }
  return open;
}

void ExpectAllClosed(const Stats& stats) {
  for (const auto& [key, counts] : AllCounts(stats)) {
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      EXPECT_EQ(counts[i].broadcasts_closed, counts[i].broadcasts)
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
      EXPECT_EQ(counts[i].subscriptions_closed, counts[i].subscriptions)
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
    }
  }
}

std::array<uint64_t, 4> Flat(const std::array<Session::OpenGuards, 2>& open) {
  return {open[0].broadcasts, open[0].subscriptions, open[1].broadcasts, open[1].subscriptions};
}

Snapshot Snap(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions, uint64_t subscriptions_closed,
              uint64_t bytes = 0, uint64_t frames = 0, uint64_t groups = 0) {
  return Snapshot{broadcasts, broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames, groups};
}

uint64_t Rejected(const SessionRegistry& registry, RejectReason reason) {
  return registry.counts().rejected[static_cast<size_t>(reason)];
}

SessionRegistryOptions DefaultOptions() {
  SessionRegistryOptions options;
  options.grace = kGrace;
  return options;
}

// Traffic with guards left open: handle 1 "a/b" external (publisher: 1
// broadcast, 2 subscriptions; subscriber: 1 broadcast, 1 subscription) and
// handle 2 "a/c" internal (subscriber: 2 broadcasts, 3 subscriptions).
pb::Batch OpenTraffic(uint64_t sequence) {
  return BatchBuilder(sequence)
      .Define(1, "a/b")
      .Define(2, "a/c", kIntTier)
      .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100).frames(2).groups(1))
      .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(40))
      .Add(DeltaFor(2, kSubRole).broadcasts_opened(2).subscriptions_opened(3).frames(7));
}
constexpr std::array<uint64_t, 4> kOpenTrafficGuards = {1, 2, 3, 4};

class SessionRegistryTest : public ::testing::Test {
 protected:
  void Recreate(SessionRegistryOptions options) {
    registry_ = SessionRegistry::Create(f_.stats(), &f_.time().scheduler(), &f_.time().clock(), options);
  }
  SessionRegistry::Attached AttachOk(const std::string& id, std::function<void()> on_taken_over = nullptr) {
    auto attached = registry_->Attach(id, "relay-" + id, std::move(on_taken_over));
    EXPECT_TRUE(attached.ok()) << attached.status();
    return attached.ok() ? *attached : SessionRegistry::Attached{};
  }
  void ApplyOk(const Attachment& attachment, const pb::Batch& batch) {
    absl::Status s = registry_->Apply(attachment, batch);
    EXPECT_TRUE(s.ok()) << s;
  }
  Snapshot Read(const std::string& key, Tier tier, Role role) { return f_.Read(key, tier, role); }

  StatsFixture f_{2};
  std::shared_ptr<SessionRegistry> registry_ =
      SessionRegistry::Create(f_.stats(), &f_.time().scheduler(), &f_.time().clock(), DefaultOptions());
};

// ---------------------------------------------------------------------------
// Attach, resume, grace

TEST_F(SessionRegistryTest, AttachCreatesANewSession) {
  auto attached = AttachOk("s1");
  EXPECT_TRUE(attached.attachment.valid());
  EXPECT_FALSE(attached.resumed);
  EXPECT_EQ(attached.applied_sequence, 0u);
  auto counts = registry_->counts();
  EXPECT_EQ(counts.known, 1u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 0u);
  auto open = registry_->OpenGuards("s1");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(Flat(*open), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(registry_->OpenGuards("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionRegistryTest, ReattachWithinGraceResumes) {
  auto first = AttachOk("s1");
  ApplyOk(first.attachment, OpenTraffic(1));
  ApplyOk(first.attachment, BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(5)));
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(first.attachment);
  EXPECT_EQ(registry_->counts().attached, 0u);
  EXPECT_EQ(registry_->counts().known, 1u);

  f_.Advance(kGrace - absl::Milliseconds(1));
  auto second = AttachOk("s1");
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.applied_sequence, 4u);
  EXPECT_EQ(AllCounts(f_.stats()), before) << "resuming closed or counted something";
  EXPECT_EQ(Flat(*registry_->OpenGuards("s1")), kOpenTrafficGuards);

  // The grace timer of the detach no longer applies.
  f_.Advance(3 * kGrace);
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 0, 105, 2, 1));
  // The old stream's hold is gone; the new one goes on from sequence 4.
  EXPECT_EQ(registry_->Apply(first.attachment, BatchBuilder(5)).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(registry_->Apply(second.attachment, BatchBuilder(4)).code(), absl::StatusCode::kOutOfRange);
  ApplyOk(second.attachment, BatchBuilder(5).Add(DeltaFor(1, kPubRole).subscriptions_closed(2)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 2, 105, 2, 1));
  auto counts = registry_->counts();
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 1u);
  EXPECT_EQ(counts.attached, 1u);
}

TEST_F(SessionRegistryTest, GraceExpiryClosesEveryGuardTheSessionHeld) {
  auto attached = AttachOk("s1");
  ApplyOk(attached.attachment, OpenTraffic(1));
  ApplyOk(attached.attachment, BatchBuilder(2).Add(DeltaFor(2, kSubRole).subscriptions_closed(1)));
  f_.Advance(kInterval);
  ASSERT_EQ(f_.stats().running_publishers(), 4);  // "", "a", "a/b", "a/c"
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(attached.attachment);

  // Exact: one millisecond before the end nothing is closed.
  f_.Advance(kGrace - absl::Milliseconds(1));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_TRUE(registry_->OpenGuards("s1").ok());

  f_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(registry_->counts().expired, 1u);
  EXPECT_EQ(registry_->counts().known, 0u);
  ExpectAllClosed(f_.stats());
  // Exactly what was open, nothing more: the opens and sums are unchanged.
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 1, 2, 2, 100, 2, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1, 40));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(2, 2, 3, 3, 0, 7));
  EXPECT_EQ(Read("", kInt, kSub), Snap(2, 2, 3, 3, 0, 7));
  EXPECT_EQ(registry_->OpenGuards("s1").status().code(), absl::StatusCode::kNotFound);

  // The publishers stop on their next tick.
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);

  // Forgotten: the id starts a new session; the old stream is refused.
  EXPECT_NE(registry_->Apply(attached.attachment, BatchBuilder(3)).code(), absl::StatusCode::kOk);
  auto again = AttachOk("s1");
  EXPECT_FALSE(again.resumed);
  EXPECT_EQ(again.applied_sequence, 0u);
  // And the expiry happened once.
  f_.Advance(3 * kGrace);
  EXPECT_EQ(registry_->counts().expired, 1u);
}

TEST_F(SessionRegistryTest, ADetachAfterAResumeStartsAFreshGracePeriod) {
  auto first = AttachOk("s1");
  ApplyOk(first.attachment, OpenTraffic(1));
  const LevelCounts before = AllCounts(f_.stats());
  registry_->Detach(first.attachment);
  f_.Advance(absl::Seconds(5));
  auto second = AttachOk("s1");
  ASSERT_TRUE(second.resumed);
  f_.Advance(absl::Seconds(1));
  registry_->Detach(second.attachment);
  // The first detach's deadline passes: nothing happens.
  f_.Advance(absl::Seconds(4));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  f_.Advance(kGrace - absl::Seconds(4) - absl::Milliseconds(1));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_EQ(registry_->counts().expired, 0u);
  f_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(registry_->counts().expired, 1u);
  ExpectAllClosed(f_.stats());
}

TEST_F(SessionRegistryTest, ExpiryClosesOnlyTheExpiredSessionsGuards) {
  auto s1 = AttachOk("s1");
  auto s2 = AttachOk("s2");
  ApplyOk(s1.attachment, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kSubRole).subscriptions_opened(2)));
  ApplyOk(s2.attachment, BatchBuilder(1).Define(8, "a/b").Add(DeltaFor(8, kSubRole).subscriptions_opened(3)));
  registry_->Detach(s1.attachment);
  f_.Advance(kGrace);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(0, 0, 5, 2));
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // s2 still subscribes on "", "a", "a/b"
  EXPECT_EQ(Flat(*registry_->OpenGuards("s2")), (std::array<uint64_t, 4>{0, 0, 0, 3}));
}

// ---------------------------------------------------------------------------
// Take-over, Close

TEST_F(SessionRegistryTest, ASecondAttachTakesTheSessionOver) {
  int first_taken = 0;
  int second_taken = 0;
  auto first = AttachOk("s1", [&] {
    ++first_taken;
    // Called with no lock held: the registry is usable from the callback.
    EXPECT_EQ(registry_->counts().known, 1u);
    EXPECT_TRUE(registry_->OpenGuards("s1").ok());
  });
  ApplyOk(first.attachment, OpenTraffic(1));
  auto second = AttachOk("s1", [&] { ++second_taken; });
  EXPECT_EQ(first_taken, 1);
  EXPECT_EQ(second_taken, 0);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.applied_sequence, 1u);

  const LevelCounts before = AllCounts(f_.stats());
  absl::Status aborted = registry_->Apply(first.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted) << aborted;
  EXPECT_EQ(Rejected(*registry_, RejectReason::kTakenOver), 1u);
  EXPECT_EQ(AllCounts(f_.stats()), before);
  ApplyOk(second.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(Read("a/b", kExt, kPub).bytes, 101u);

  // The old stream ending changes nothing: no grace period starts, nothing
  // is closed.
  registry_->Detach(first.attachment);
  registry_->Close(first.attachment);
  f_.Advance(3 * kGrace);
  auto counts = registry_->counts();
  EXPECT_EQ(counts.expired, 0u);
  EXPECT_EQ(counts.closed, 0u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.taken_over, 1u);
  EXPECT_EQ(Flat(*registry_->OpenGuards("s1")), kOpenTrafficGuards);

  // A third stream takes it from the second, and only the second is told.
  auto third = AttachOk("s1");
  EXPECT_EQ(first_taken, 1);
  EXPECT_EQ(second_taken, 1);
  EXPECT_EQ(third.applied_sequence, 2u);
  EXPECT_EQ(registry_->Apply(second.attachment, BatchBuilder(3)).code(), absl::StatusCode::kAborted);
  ApplyOk(third.attachment, BatchBuilder(3));
}

TEST_F(SessionRegistryTest, TakeOverOfADetachedSessionIsAResume) {
  int taken = 0;
  auto first = AttachOk("s1", [&] { ++taken; });
  registry_->Detach(first.attachment);
  auto second = AttachOk("s1");
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(taken, 0);
  EXPECT_EQ(registry_->counts().taken_over, 0u);
}

TEST_F(SessionRegistryTest, CloseClosesAtOnceAndForgets) {
  auto attached = AttachOk("s1");
  ApplyOk(attached.attachment, OpenTraffic(1));
  registry_->Close(attached.attachment);
  ExpectAllClosed(f_.stats());
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 1, 2, 2, 100, 2, 1));
  auto counts = registry_->counts();
  EXPECT_EQ(counts.closed, 1u);
  EXPECT_EQ(counts.known, 0u);
  EXPECT_EQ(counts.attached, 0u);
  EXPECT_EQ(registry_->OpenGuards("s1").status().code(), absl::StatusCode::kNotFound);

  const LevelCounts after_close = AllCounts(f_.stats());
  EXPECT_NE(registry_->Apply(attached.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1))).code(),
            absl::StatusCode::kOk);
  registry_->Detach(attached.attachment);
  registry_->Close(attached.attachment);
  f_.Advance(3 * kGrace);
  EXPECT_EQ(AllCounts(f_.stats()), after_close) << "something was closed twice";
  EXPECT_EQ(registry_->counts().expired, 0u);
  EXPECT_EQ(registry_->counts().closed, 1u);
  EXPECT_EQ(f_.stats().running_publishers(), 0);

  auto again = AttachOk("s1");
  EXPECT_FALSE(again.resumed);
  EXPECT_EQ(again.applied_sequence, 0u);
}

// ---------------------------------------------------------------------------
// Limits and validation

TEST_F(SessionRegistryTest, MaxSessionsCountsSessionsInTheirGracePeriod) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 2;
  Recreate(options);
  auto s1 = AttachOk("s1");
  auto s2 = AttachOk("s2");
  auto refused = registry_->Attach("s3", "r", nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("max_sessions"));

  registry_->Detach(s1.attachment);
  EXPECT_EQ(registry_->Attach("s3", "r", nullptr).status().code(), absl::StatusCode::kResourceExhausted);
  // A known id is no new session: resuming and taking over still work.
  auto s2_again = AttachOk("s2");
  EXPECT_TRUE(s2_again.resumed);
  f_.Advance(kGrace - absl::Milliseconds(1));
  EXPECT_EQ(registry_->Attach("s3", "r", nullptr).status().code(), absl::StatusCode::kResourceExhausted);
  f_.Advance(absl::Milliseconds(1));
  auto s3 = AttachOk("s3");
  EXPECT_FALSE(s3.resumed);
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
// Self-counters

TEST_F(SessionRegistryTest, CountsBatchesDeltasAndRefusalsByReason) {
  SessionRegistryOptions options = DefaultOptions();
  options.limits.max_handles = 3;
  options.limits.max_batch_entries = 6;
  Recreate(options);
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));                             // 3 deltas
  ApplyOk(s1.attachment, BatchBuilder(2).Define(3, "z").Release(3));  // 0 deltas
  ApplyOk(s1.attachment, BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1)).Add(DeltaFor(1, kPubRole).bytes(2)));

  std::map<RejectReason, pb::Batch> refused = {
      {RejectReason::kSequence, BatchBuilder(3)},
      {RejectReason::kBatchSize,
       BatchBuilder(4).Release(1).Release(2).Release(3).Release(4).Release(5).Release(6).Release(7)},
      {RejectReason::kHandleLimit, BatchBuilder(4).Define(3, "x").Define(4, "y")},
      {RejectReason::kUnknownHandle, BatchBuilder(4).Add(DeltaFor(9, kPubRole).bytes(1))},
      {RejectReason::kInvalidPath, BatchBuilder(4).Define(3, "\xff")},
      {RejectReason::kInvalidEnum, BatchBuilder(4).Add(DeltaFor(1, pb::ROLE_UNSPECIFIED))},
      {RejectReason::kRedefined, BatchBuilder(4).Define(1, "elsewhere")},
      {RejectReason::kOverClose, BatchBuilder(4).Add(DeltaFor(1, kPubRole).broadcasts_closed(2))},
      {RejectReason::kReleaseOpen, BatchBuilder(4).Release(1)},
      {RejectReason::kDuplicate, BatchBuilder(4).Resync().Open(1, kPubRole, 1, 1).Open(1, kPubRole, 1, 1)},
  };
  for (const auto& [reason, batch] : refused) {
    EXPECT_FALSE(registry_->Apply(s1.attachment, batch).ok()) << RejectReasonName(reason);
  }
  auto s1_new = AttachOk("s1");
  EXPECT_EQ(registry_->Apply(s1.attachment, BatchBuilder(4)).code(), absl::StatusCode::kAborted);
  registry_->Drain();
  EXPECT_EQ(registry_->Apply(s1_new.attachment, BatchBuilder(4)).code(), absl::StatusCode::kUnavailable);

  auto counts = registry_->counts();
  EXPECT_EQ(counts.batches_applied, 3u);
  EXPECT_EQ(counts.deltas_applied, 5u);
  for (int i = 0; i < kRejectReasonCount; ++i) {
    auto reason = static_cast<RejectReason>(i);
    uint64_t want = (reason == RejectReason::kNone || reason == RejectReason::kLevelLimit) ? 0 : 1;
    EXPECT_EQ(counts.rejected[i], want) << RejectReasonName(reason);
  }
  EXPECT_EQ(counts.created, 1u);
  EXPECT_EQ(counts.resumed, 1u);
  EXPECT_EQ(counts.taken_over, 1u);
  EXPECT_EQ(counts.attached, 1u);
  EXPECT_EQ(counts.known, 1u);
}

TEST(SessionRegistryLevelLimitTest, CountsTheLevelLimitRefusal) {
  Origin origin;
  testing::SimulatedTime time;
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
  testing::SimulatedTime time;
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
    ASSERT_EQ(stats->level_count(), 0u) << "round " << round;
  }
  EXPECT_EQ(rounds_over, 0) << "rounds of " << kRounds << " that ended with more than max_levels=" << kMaxLevels
                            << " levels; the most held: " << most;
  EXPECT_GE(most, kMaxLevels) << "the relays never reached the limit";
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
  const Snapshot ac_before = g.Read("a/c", kInt, kSub);
  g.Advance(kGrace - absl::Milliseconds(1));
  EXPECT_EQ(g.Read("a/c", kInt, kSub), ac_before);
  EXPECT_EQ(restored->counts().expired, 0u);
  g.Advance(absl::Milliseconds(1));
  EXPECT_EQ(restored->counts().expired, 1u);
  EXPECT_EQ(g.Read("a/c", kInt, kSub), Snap(4, 2, 4, 1, 0, 10));  // s2's part closed, s1's open
  EXPECT_EQ(g.Read("d/e", kExt, kPub), Snap(1, 1, 0, 0, 77));
  restored->Close(r1->attachment);
  ExpectAllClosed(g.stats());
  g.Advance(kInterval);
  EXPECT_EQ(g.stats().running_publishers(), 0);
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
}  // namespace moqstats
