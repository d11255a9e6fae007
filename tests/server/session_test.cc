// A relay session's record in the sidecar, driven directly: batches land on
// the right levels, tier and role with exact counts; every bad batch is
// refused whole with the status, message and reason stats.proto promises;
// resync, CloseAll and the checkpoint record keep the counts exact.

#include "server/session.h"

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/origin.h"
#include "server/stats.h"
#include "tests/common/test_tools/simulated_time.h"
#include "tests/server/test_tools/batch_builder.h"
#include "tests/server/test_tools/stats_fixture.h"

namespace moqstats {

// Readable failures (found by argument-dependent lookup).
static void PrintTo(const Snapshot& s, std::ostream* os) {
  *os << "{broadcasts " << s.broadcasts << ", broadcasts_closed " << s.broadcasts_closed << ", subscriptions "
      << s.subscriptions << ", subscriptions_closed " << s.subscriptions_closed << ", bytes " << s.bytes << ", frames "
      << s.frames << ", groups " << s.groups << "}";
}
static void PrintTo(RejectReason reason, std::ostream* os) { *os << RejectReasonName(reason); }

namespace {

namespace pb = ::moq::stats::v1;
using testing::BatchBuilder;
using testing::DeltaFor;
using ::testing::HasSubstr;
using testing::SimulatedTime;
using testing::StatsFixture;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;
constexpr Role kSub = Role::kSubscriber;
constexpr pb::Tier kExtTier = pb::TIER_EXTERNAL;
constexpr pb::Tier kIntTier = pb::TIER_INTERNAL;
constexpr pb::Role kPubRole = pb::ROLE_PUBLISHER;
constexpr pb::Role kSubRole = pb::ROLE_SUBSCRIBER;
constexpr absl::Duration kInterval = absl::Seconds(1);  // StatsConfig's default tick interval

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

// Without the levels whose counters are all zero: a refused define may leave
// an empty level behind, for retention to free; what matters is that nothing
// was counted.
LevelCounts Counted(const Stats& stats) {
  LevelCounts out;
  for (auto& [key, counts] : AllCounts(stats)) {
    bool zero = true;
    for (const Snapshot& s : counts) zero = zero && s == Snapshot{};
    if (!zero) out.emplace(key, counts);
  }
  return out;
}

// {publisher broadcasts, publisher subscriptions, subscriber broadcasts,
//  subscriber subscriptions}
std::array<uint64_t, 4> Flat(const std::array<Session::OpenGuards, 2>& open) {
  return {open[0].broadcasts, open[0].subscriptions, open[1].broadcasts, open[1].subscriptions};
}

// Snapshot{broadcasts, broadcasts_closed, subscriptions, subscriptions_closed,
//          bytes, frames, groups}
Snapshot Snap(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions, uint64_t subscriptions_closed,
              uint64_t bytes = 0, uint64_t frames = 0, uint64_t groups = 0) {
  return Snapshot{broadcasts, broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames, groups};
}

// True when every opened guard on every level was closed.
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

absl::Status ApplyTo(Session& session, const pb::Batch& batch, RejectReason* reason = nullptr) {
  RejectReason ignored = RejectReason::kNone;
  size_t deltas = 0;
  return session.Apply(batch, reason ? reason : &ignored, &deltas);
}

// Applies a batch the session must refuse, and checks the refusal: its code,
// that its message names every string of `mentions` (the entry and the
// handle), its reason, and that nothing of it was applied. Then checks that
// the session survived: a valid batch with the refused sequence is accepted.
void ExpectSessionRefused(Session& session, const Stats& stats, const pb::Batch& batch, absl::StatusCode code,
                          RejectReason reason, const std::vector<std::string>& mentions) {
  const LevelCounts before = Counted(stats);
  const uint64_t applied = session.applied_sequence();
  const size_t handles = session.handle_count();
  const auto open = Flat(session.open_guards());
  const int64_t running = stats.running_publishers();

  RejectReason why = RejectReason::kNone;
  size_t deltas = 0;
  absl::Status status = session.Apply(batch, &why, &deltas);
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(why, reason) << status;
  for (const std::string& m : mentions) EXPECT_THAT(std::string(status.message()), HasSubstr(m));

  EXPECT_EQ(Counted(stats), before) << "a refused batch changed the counters";
  EXPECT_EQ(session.applied_sequence(), applied);
  EXPECT_EQ(session.handle_count(), handles);
  EXPECT_EQ(Flat(session.open_guards()), open);
  EXPECT_EQ(stats.running_publishers(), running);

  if (batch.sequence() > applied) {
    EXPECT_TRUE(ApplyTo(session, BatchBuilder(batch.sequence())).ok())
        << "a valid batch with the refused sequence " << batch.sequence() << " was not accepted";
    EXPECT_EQ(session.applied_sequence(), batch.sequence());
    EXPECT_EQ(Counted(stats), before);
  }
}

class SessionTest : public ::testing::Test {
 protected:
  Snapshot Read(const std::string& key, Tier tier, Role role) { return f_.Read(key, tier, role); }
  void ApplyOk(const pb::Batch& batch) {
    absl::Status s = ApplyTo(session_, batch);
    ASSERT_TRUE(s.ok()) << s;
  }
  void ExpectRefused(const pb::Batch& batch, absl::StatusCode code, RejectReason reason,
                     const std::vector<std::string>& mentions) {
    ExpectSessionRefused(session_, f_.stats(), batch, code, reason, mentions);
  }

  StatsFixture f_{2};
  Session session_{"session-1", "relay-a", f_.stats(), SessionLimits{}};
};

// ---------------------------------------------------------------------------
// Batches that apply

TEST_F(SessionTest, StartsEmpty) {
  EXPECT_EQ(session_.id(), "session-1");
  EXPECT_EQ(session_.relay(), "relay-a");
  EXPECT_EQ(session_.applied_sequence(), 0u);
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
}

TEST_F(SessionTest, DefinesAndDeltasLandOnTheirLevelsTierAndRole) {
  RejectReason reason = RejectReason::kSequence;
  size_t deltas = 0;
  absl::Status s = session_.Apply(
      BatchBuilder(1)
          .Define(1, "a/b", kExtTier)
          .Define(2, "a/c/d", kIntTier)
          .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(1000).frames(10).groups(2))
          .Add(DeltaFor(1, kSubRole).broadcasts_opened(3).subscriptions_opened(4).bytes(7).frames(1).groups(1))
          .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(50).frames(5).groups(5)),
      &reason, &deltas);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(reason, RejectReason::kNone);
  EXPECT_EQ(deltas, 3u);
  EXPECT_EQ(session_.applied_sequence(), 1u);
  EXPECT_EQ(session_.handle_count(), 2u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 2, 4, 5}));

  // levels = 2: "", "a", "a/b" for the first handle; "", "a", "a/c" for the
  // second (its deeper segment is truncated).
  for (const char* key : {"", "a", "a/b"}) {
    EXPECT_EQ(Read(key, kExt, kPub), Snap(1, 0, 2, 0, 1000, 10, 2)) << key;
    EXPECT_EQ(Read(key, kExt, kSub), Snap(3, 0, 4, 0, 7, 1, 1)) << key;
  }
  for (const char* key : {"", "a", "a/c"}) {
    EXPECT_EQ(Read(key, kInt, kSub), Snap(1, 0, 1, 0, 50, 5, 5)) << key;
    EXPECT_EQ(Read(key, kInt, kPub), Snapshot{}) << key;
  }
  EXPECT_EQ(Read("a/b", kInt, kPub), Snapshot{});
  EXPECT_EQ(Read("a/b", kInt, kSub), Snapshot{});
  EXPECT_EQ(Read("a/c", kExt, kPub), Snapshot{});
  EXPECT_EQ(Read("a/c", kExt, kSub), Snapshot{});
  EXPECT_FALSE(f_.stats().level(Path("a/c/d")));
  EXPECT_EQ(f_.stats().level_count(), 4u);
}

TEST_F(SessionTest, SeveralDeltasForOneHandleAddUp) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Add(DeltaFor(1, kPubRole).bytes(100).frames(1))
              .Add(DeltaFor(1, kPubRole).bytes(250).frames(2).groups(1))
              .Add(DeltaFor(1, kPubRole).subscriptions_opened(2))
              .Add(DeltaFor(1, kPubRole).subscriptions_closed(1)));
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1).frames(1).groups(1).subscriptions_closed(1)));
  for (const char* key : {"", "a", "a/b"}) EXPECT_EQ(Read(key, kExt, kPub), Snap(0, 0, 2, 2, 351, 4, 2)) << key;
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
}

TEST_F(SessionTest, TheSameDefineRepeatedIsAccepted) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b", kIntTier).Add(DeltaFor(1, kPubRole).broadcasts_opened(1)));
  // Again in a later batch, twice in one batch, and spelled unnormalised.
  ApplyOk(BatchBuilder(2)
              .Define(1, "a/b", kIntTier)
              .Define(1, "//a//b/", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1)));
  EXPECT_EQ(session_.handle_count(), 1u);
  EXPECT_EQ(Read("a/b", kInt, kPub), Snap(1, 1, 0, 0));
  // A handle defined twice in its first batch is defined once.
  ApplyOk(BatchBuilder(3).Define(2, "x", kExtTier).Define(2, "x", kExtTier).Add(DeltaFor(2, kSubRole).bytes(5)));
  EXPECT_EQ(session_.handle_count(), 2u);
  EXPECT_EQ(Read("x", kExt, kSub).bytes, 5u);
}

TEST_F(SessionTest, TwoHandlesOnOnePathShareItsLevels) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/b")
              .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
              .Add(DeltaFor(2, kPubRole).subscriptions_opened(2)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(0, 0, 3, 0));
  // Each handle keeps its own open guards: handle 1 cannot close handle 2's.
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).subscriptions_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1"});
}

TEST_F(SessionTest, SequenceMustIncreaseGapsAllowed) {
  // 0 is not above the 0 of a new session.
  ExpectRefused(BatchBuilder(0), absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"0"});
  ApplyOk(BatchBuilder(1).Define(1, "a").Add(DeltaFor(1, kPubRole).bytes(1)));
  // Equal.
  ExpectRefused(BatchBuilder(1).Add(DeltaFor(1, kPubRole).bytes(10)), absl::StatusCode::kOutOfRange,
                RejectReason::kSequence, {"sequence 1"});
  // A gap.
  ApplyOk(BatchBuilder(5).Add(DeltaFor(1, kPubRole).bytes(2)));
  EXPECT_EQ(session_.applied_sequence(), 5u);
  // Lower.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(10)), absl::StatusCode::kOutOfRange,
                RejectReason::kSequence, {"sequence 4", "5"});
  ExpectRefused(BatchBuilder(5), absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"sequence 5"});
  ApplyOk(BatchBuilder(6).Add(DeltaFor(1, kPubRole).bytes(4)));
  ApplyOk(BatchBuilder(std::numeric_limits<uint64_t>::max()).Add(DeltaFor(1, kPubRole).bytes(8)));
  EXPECT_EQ(Read("a", kExt, kPub).bytes, 15u);
  // Nothing is above the highest sequence.
  EXPECT_EQ(ApplyTo(session_, BatchBuilder(std::numeric_limits<uint64_t>::max())).code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(SessionTest, AnEmptyBatchOnlyMovesTheSequence) {
  ApplyOk(BatchBuilder(3));
  EXPECT_EQ(session_.applied_sequence(), 3u);
  EXPECT_EQ(f_.stats().level_count(), 0u);
}

TEST_F(SessionTest, ReleasesForgetHandlesAndFreeTheirNumbers) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Define(2, "a/c").Add(
      DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1)));
  EXPECT_EQ(session_.handle_count(), 2u);
  // Guards closed by the deltas of the same batch: releases come after.
  ApplyOk(
      BatchBuilder(2).Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(1)).Release(1).Release(2));
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
  // Released: unknown now.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, kSubRole).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kUnknownHandle, {"deltas[0]", "handle 1"});
  // And the number may be defined again, with another path and tier.
  ApplyOk(BatchBuilder(4).Define(1, "z", kIntTier).Add(DeltaFor(1, kPubRole).bytes(9)));
  EXPECT_EQ(Read("z", kInt, kPub).bytes, 9u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
}

TEST_F(SessionTest, DefineUseAndReleaseInOneBatch) {
  ApplyOk(BatchBuilder(1)
              .Define(7, "q/r")
              .Add(DeltaFor(7, kPubRole).broadcasts_opened(1).broadcasts_closed(1).bytes(3))
              .Release(7));
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Read("q/r", kExt, kPub), Snap(1, 1, 0, 0, 3));
}

TEST_F(SessionTest, PathsAtTheLimitsAreAccepted) {
  std::string long_path = "a/" + std::string(kMaxPathBytes - 2, 'x');
  ASSERT_EQ(long_path.size(), 1024u);
  std::string many;
  for (size_t i = 0; i < kMaxPathSegments; ++i) absl::StrAppend(&many, i == 0 ? "" : "/", "s", i);
  ApplyOk(BatchBuilder(1)
              .Define(1, long_path)
              .Define(2, many)
              .Define(3, "caf\xc3\xa9/\xe2\x82\xac")  // "café/€"
              .Add(DeltaFor(1, kPubRole).bytes(1))
              .Add(DeltaFor(2, kPubRole).bytes(2))
              .Add(DeltaFor(3, kPubRole).bytes(4)));
  EXPECT_EQ(Read(long_path, kExt, kPub).bytes, 1u);
  EXPECT_EQ(Read("s0/s1", kExt, kPub).bytes, 2u);
  EXPECT_EQ(Read("caf\xc3\xa9/\xe2\x82\xac", kExt, kPub).bytes, 4u);
  EXPECT_EQ(Read("", kExt, kPub).bytes, 7u);
}

TEST_F(SessionTest, PathsUnderTheStatsPrefixCountNothing) {
  ApplyOk(BatchBuilder(1).Define(1, ".stats/prefix/a").Add(DeltaFor(1, kSubRole).subscriptions_opened(1).bytes(5)));
  EXPECT_EQ(f_.stats().level_count(), 0u);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
}

TEST_F(SessionTest, OpeningSubscriptionsStartsTheLevelPublishers) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).broadcasts_opened(1).bytes(10)));
  // A broadcast guard never starts a publisher.
  EXPECT_EQ(f_.stats().running_publishers(), 0);
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kSubRole).subscriptions_opened(1)));
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // "", "a", "a/b"
  for (const char* key : {"", "a", "a/b"}) EXPECT_TRUE(f_.stats().level(Path(key))->publisher_running()) << key;
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 3);
  ApplyOk(BatchBuilder(3).Add(DeltaFor(1, kSubRole).subscriptions_closed(1)));
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
}

TEST_F(SessionTest, ChurnOfHandlesKeepsEveryDeltaOnItsHandle) {
  // Many defines and releases leave the handle table with erased slots; the
  // deltas of a batch that also defines new handles must still land on the
  // handles they name.
  ApplyOk(BatchBuilder(1).Define(1, "keep").Add(DeltaFor(1, kPubRole).subscriptions_opened(1)));
  constexpr uint32_t kRounds = 300;
  constexpr uint32_t kPerRound = 8;
  uint64_t sequence = 2;
  for (uint32_t round = 0; round < kRounds; ++round) {
    BatchBuilder batch(sequence++);
    const uint32_t base = 1000 + round * kPerRound;
    for (uint32_t k = 0; k < kPerRound; ++k) batch.Define(base + k, absl::StrCat("churn/", k));
    batch.Add(DeltaFor(1, kPubRole).bytes(1));
    for (uint32_t k = 0; k < kPerRound; ++k) batch.Add(DeltaFor(base + k, kSubRole).bytes(1).frames(1));
    if (round > 0) {
      for (uint32_t k = 0; k < kPerRound; ++k) batch.Release(base - kPerRound + k);
    }
    ApplyOk(batch);
    ASSERT_EQ(session_.handle_count(), 1 + kPerRound) << "round " << round;
  }
  EXPECT_EQ(Read("keep", kExt, kPub), Snap(0, 0, 1, 0, kRounds));
  EXPECT_EQ(Read("churn", kExt, kSub), Snap(0, 0, 0, 0, kRounds * kPerRound, kRounds * kPerRound));
  for (uint32_t k = 0; k < kPerRound; ++k) {
    EXPECT_EQ(Read(absl::StrCat("churn/", k), kExt, kSub).bytes, kRounds) << k;
  }
}

// ---------------------------------------------------------------------------
// Refused batches: every case of stats.proto's Batch comment.

// Over a record with handle 1 ("a/b", external; as publisher 1 broadcast and
// 2 subscriptions open), handle 2 ("a/c", internal; as subscriber 1 broadcast
// and 1 subscription open) and handle 3 ("x", external; nothing open).
class SessionRefusalTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1)
                .Define(1, "a/b", kExtTier)
                .Define(2, "a/c", kIntTier)
                .Define(3, "x", kExtTier)
                .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100).frames(4).groups(1))
                .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(50)));
  }
};

TEST_F(SessionRefusalTest, UnknownHandle) {
  ExpectRefused(BatchBuilder(2)
                    .Add(DeltaFor(1, kPubRole).bytes(1))
                    .Add(DeltaFor(2, kSubRole).bytes(1))
                    .Add(DeltaFor(99, kPubRole).bytes(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle, {"deltas[2]", "99"});
}

TEST_F(SessionRefusalTest, HandleRedefinedWithAnotherPath) {
  ExpectRefused(BatchBuilder(2).Define(1, "a/x", kExtTier).Add(DeltaFor(1, kPubRole).bytes(1)),
                absl::StatusCode::kFailedPrecondition, RejectReason::kRedefined, {"defines[0]", "handle 1", "a/x"});
}

TEST_F(SessionRefusalTest, HandleRedefinedWithAnotherTier) {
  ExpectRefused(BatchBuilder(2).Define(4, "y").Define(1, "a/b", kIntTier).Add(DeltaFor(4, kPubRole).bytes(1)),
                absl::StatusCode::kFailedPrecondition, RejectReason::kRedefined, {"defines[1]", "handle 1"});
}

TEST_F(SessionRefusalTest, HandleDefinedTwoWaysInOneBatch) {
  ExpectRefused(BatchBuilder(2).Define(4, "q").Define(4, "r"), absl::StatusCode::kFailedPrecondition,
                RejectReason::kRedefined, {"defines[1]", "handle 4"});
}

TEST_F(SessionRefusalTest, PathNotUtf8) {
  ExpectRefused(BatchBuilder(2).Define(5, "a/\xff\xfe"), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 5", "UTF-8"});
  // Overlong form of '/'.
  const std::string overlong = std::string("a\xc0\xaf") + "b";
  ExpectRefused(BatchBuilder(3).Define(6, overlong), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 6"});
}

TEST_F(SessionRefusalTest, PathOver1024Bytes) {
  std::string path = "a/" + std::string(kMaxPathBytes - 1, 'x');
  ASSERT_EQ(path.size(), 1025u);
  ExpectRefused(BatchBuilder(2).Define(4, "ok").Define(5, path), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidPath, {"defines[1]", "handle 5", "1024"});
}

TEST_F(SessionRefusalTest, PathOver32Segments) {
  std::string path;
  for (size_t i = 0; i <= kMaxPathSegments; ++i) absl::StrAppend(&path, "s", i, "/");
  ExpectRefused(BatchBuilder(2).Define(5, path), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidPath,
                {"defines[0]", "handle 5", "33"});
}

TEST_F(SessionRefusalTest, TierUnspecifiedOrUnknown) {
  ExpectRefused(BatchBuilder(2).Define(5, "y", pb::TIER_UNSPECIFIED), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"defines[0]", "handle 5", "tier"});
  ExpectRefused(BatchBuilder(3).Define(4, "y").DefineWithTier(5, "y", 7), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"defines[1]", "handle 5", "tier"});
}

TEST_F(SessionRefusalTest, RoleUnspecifiedOrUnknown) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)).Add(DeltaFor(2, pb::ROLE_UNSPECIFIED).bytes(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum, {"deltas[1]", "handle 2", "role"});
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, 3).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"deltas[0]", "handle 1", "role"});
}

TEST_F(SessionRefusalTest, ClosingMoreBroadcastGuardsThanOpen) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(1, kPubRole).broadcasts_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1", "broadcast"});
  // Guards are per role: handle 1 has none open as subscriber.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(1, kSubRole).broadcasts_closed(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 1", "broadcast"});
  // And a handle with none at all.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(3, kPubRole).broadcasts_closed(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 3"});
}

TEST_F(SessionRefusalTest, ClosingMoreSubscriptionGuardsThanOpen) {
  ExpectRefused(BatchBuilder(2).Add(DeltaFor(2, kSubRole).subscriptions_closed(2)), absl::StatusCode::kInvalidArgument,
                RejectReason::kOverClose, {"deltas[0]", "handle 2", "subscription"});
  // Over two deltas of one batch: 2 open, then 2 closed, then 1 more.
  ExpectRefused(BatchBuilder(3)
                    .Add(DeltaFor(1, kPubRole).subscriptions_closed(2))
                    .Add(DeltaFor(1, kPubRole).subscriptions_closed(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose,
                {"deltas[1]", "handle 1", "subscription"});
  // Opens of the same delta count before its closes: 2 open + 1 opened - 3
  // closed is fine, 2 + 1 - 4 is not.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_opened(1).subscriptions_closed(4)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 1"});
  ApplyOk(BatchBuilder(5).Add(DeltaFor(1, kPubRole).subscriptions_opened(1).subscriptions_closed(3)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 3, 3, 100, 4, 1));
}

TEST_F(SessionRefusalTest, ReleaseOfAHandleWithOpenGuards) {
  ExpectRefused(BatchBuilder(2).Release(3).Release(1), absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen,
                {"releases[1]", "handle 1"});
  // Still open after the batch's deltas.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(2, kSubRole).subscriptions_closed(1)).Release(2),
                absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen, {"releases[0]", "handle 2"});
}

TEST_F(SessionRefusalTest, ReleaseOfAnUnknownHandle) {
  ExpectRefused(BatchBuilder(2).Release(99), absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle,
                {"releases[0]", "99"});
}

TEST_F(SessionRefusalTest, DuplicateRelease) {
  ExpectRefused(BatchBuilder(2).Release(3).Release(3), absl::StatusCode::kInvalidArgument, RejectReason::kDuplicate,
                {"releases[1]", "handle 3"});
}

TEST_F(SessionRefusalTest, OpenEntriesWithoutResync) {
  // The message names the entry and its handle, as for every other refusal.
  ExpectRefused(BatchBuilder(2).Open(1, kPubRole, 1, 2), absl::StatusCode::kInvalidArgument, RejectReason::kInvalidEnum,
                {"open[0]", "handle 1", "resync"});
}

TEST_F(SessionRefusalTest, OpenedCountsThatOverflow) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // Handle 1 has 2 subscriptions open as publisher: 2 + (max - 1) overflows.
  ExpectRefused(
      BatchBuilder(2).Add(DeltaFor(3, kPubRole).bytes(1)).Add(DeltaFor(1, kPubRole).subscriptions_opened(kMax - 1)),
      absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[1]", "handle 1", "overflow"});
  // Over two deltas: max opens fit on a handle with none, one more does not.
  ExpectRefused(BatchBuilder(3)
                    .Add(DeltaFor(3, kSubRole).broadcasts_opened(kMax))
                    .Add(DeltaFor(3, kSubRole).broadcasts_opened(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[1]", "handle 3", "overflow"});
}

TEST_F(SessionRefusalTest, ResyncEntriesNameTheirEntry) {
  ExpectRefused(BatchBuilder(2).Resync().Open(1, kPubRole, 1, 2).Open(99, kPubRole, 0, 1),
                absl::StatusCode::kInvalidArgument, RejectReason::kUnknownHandle, {"open[1]", "99"});
  ExpectRefused(BatchBuilder(3).Resync().Open(1, pb::ROLE_UNSPECIFIED, 1, 2), absl::StatusCode::kInvalidArgument,
                RejectReason::kInvalidEnum, {"open[0]", "handle 1", "role"});
  ExpectRefused(BatchBuilder(4).Resync().Open(1, kPubRole, 1, 2).Open(1, kPubRole, 1, 1),
                absl::StatusCode::kInvalidArgument, RejectReason::kDuplicate, {"open[1]", "handle 1"});
}

TEST_F(SessionRefusalTest, ALaterBadEntryAppliesNothingOfTheEarlierOnes) {
  // A new handle, bytes and opens, then an over-close: none of it applies.
  ExpectRefused(BatchBuilder(2)
                    .Define(4, "n/m", kIntTier)
                    .Add(DeltaFor(1, kPubRole).bytes(1000).frames(10).groups(3).subscriptions_closed(1))
                    .Add(DeltaFor(4, kSubRole).broadcasts_opened(1).subscriptions_opened(5))
                    .Add(DeltaFor(2, kSubRole).broadcasts_closed(1))
                    .Add(DeltaFor(2, kSubRole).broadcasts_closed(1)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[3]", "handle 2"});
  EXPECT_EQ(f_.stats().running_publishers(), 3 + 1);  // the base record's ("", "a", "a/b", "a/c")
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 0, 100, 4, 1));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(1, 0, 1, 0, 50));
  EXPECT_EQ(f_.stats().level(Path("n/m")) ? f_.stats().level(Path("n/m"))->snapshot(kInt, kSub) : Snapshot{},
            Snapshot{});
  // The define was not applied either: handle 4 is unknown.
  ExpectRefused(BatchBuilder(3).Add(DeltaFor(4, kSubRole).bytes(1)), absl::StatusCode::kInvalidArgument,
                RejectReason::kUnknownHandle, {"deltas[0]", "handle 4"});
  // Valid deltas, then a bad release.
  ExpectRefused(BatchBuilder(4).Add(DeltaFor(1, kPubRole).bytes(7)).Release(3).Release(1),
                absl::StatusCode::kInvalidArgument, RejectReason::kReleaseOpen, {"releases[1]", "handle 1"});
  EXPECT_EQ(session_.handle_count(), 3u);
}

TEST_F(SessionRefusalTest, ARefusedDefineLeavesNoLevelBehind) {
  // Nothing of a refused batch is applied, not even the levels of its new
  // defines: they would show in GetLevel and ListLevels, and count against
  // max_levels until retention freed them.
  const size_t levels_before = f_.stats().level_count();
  ASSERT_EQ(ApplyTo(session_, BatchBuilder(2)
                                  .Define(4, "n/m")
                                  .Add(DeltaFor(4, kPubRole).subscriptions_opened(1))
                                  .Add(DeltaFor(3, kPubRole).broadcasts_closed(1)))
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.stats().level_count(), levels_before);
  EXPECT_FALSE(f_.stats().level(Path("n/m"))) << "the refused batch left level \"n/m\" behind";
  EXPECT_FALSE(f_.stats().level(Path("n"))) << "the refused batch left level \"n\" behind";
}

TEST(SessionLimitsTest, ARefusedBatchDoesNotTakeLevelsFromTheNext) {
  // With max_levels = 3, session A's batch defining "a/b" is refused for a
  // later entry; its levels must not stay behind and take the room session
  // B's define of "c" needs.
  Origin origin;
  SimulatedTime time;
  StatsConfig config;
  config.levels = 2;
  config.max_levels = 3;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok()) << stats.status();
  Session a("a", "r", *stats, SessionLimits{});
  Session b("b", "r", *stats, SessionLimits{});
  ASSERT_EQ(ApplyTo(a, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).subscriptions_closed(1))).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status s = ApplyTo(b, BatchBuilder(1).Define(1, "c").Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_TRUE(s.ok()) << s;
  // Once retention has freed the refused batch's levels, there is room.
  time.Advance(config.retention + kInterval);
  s = ApplyTo(b, BatchBuilder(2).Define(1, "c").Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(SessionLimitsTest, BatchOverMaxBatchEntries) {
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_batch_entries = 4;
  Session session("s", "r", f.stats(), limits);
  // Defines + deltas + releases + open entries: exactly 4 fit.
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1)
                                   .Define(1, "a")
                                   .Define(2, "b")
                                   .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
                                   .Add(DeltaFor(2, kPubRole).bytes(1)))
                  .ok());
  ExpectSessionRefused(session, f.stats(),
                       BatchBuilder(2)
                           .Define(3, "c")
                           .Add(DeltaFor(1, kPubRole).bytes(1))
                           .Release(2)
                           .Release(3)
                           .Add(DeltaFor(3, kPubRole).bytes(1)),
                       absl::StatusCode::kResourceExhausted, RejectReason::kBatchSize,
                       {"5 entries", "max_batch_entries", "4"});
  EXPECT_TRUE(
      ApplyTo(session, BatchBuilder(3).Release(2).Add(DeltaFor(1, kPubRole).subscriptions_closed(1)).Release(1)).ok());
}

TEST(SessionLimitsTest, AResyncMayHoldFiveEntriesPerHandle) {
  // A resync states every live handle at once, so it is bounded by the
  // handles it may state (5 entries each), not by max_batch_entries.
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_batch_entries = 4;
  limits.max_handles = 2;
  Session session("s", "r", f.stats(), limits);
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1).Define(1, "a").Define(2, "b")).ok());
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(2)
                                   .Resync()
                                   .Define(1, "a")
                                   .Define(2, "b")
                                   .Open(1, kPubRole, 0, 1)
                                   .Open(2, kPubRole, 0, 1)
                                   .Add(DeltaFor(1, kPubRole).bytes(1))
                                   .Add(DeltaFor(2, kPubRole).bytes(1)))
                  .ok());
  BatchBuilder too_big(3);
  too_big.Resync().Define(1, "a").Define(2, "b").Open(1, kPubRole, 0, 1).Open(2, kPubRole, 0, 1);
  for (int i = 0; i < 7; ++i) too_big.Add(DeltaFor(1, kPubRole).bytes(1));
  ExpectSessionRefused(session, f.stats(), too_big, absl::StatusCode::kResourceExhausted, RejectReason::kBatchSize,
                       {"11 entries", "resync", "10"});
}

TEST(SessionLimitsTest, HandlesOverMaxHandles) {
  StatsFixture f(2);
  SessionLimits limits;
  limits.max_handles = 3;
  Session session("s", "r", f.stats(), limits);
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(1).Define(1, "a").Define(2, "b").Add(DeltaFor(1, kPubRole).bytes(1))).ok());
  // A repeated define takes no room; the fourth handle does not fit.
  ExpectSessionRefused(session, f.stats(),
                       BatchBuilder(2).Define(1, "a").Define(3, "c").Define(4, "d").Add(DeltaFor(3, kPubRole).bytes(1)),
                       absl::StatusCode::kResourceExhausted, RejectReason::kHandleLimit,
                       {"defines[2]", "handle 4", "max_handles", "3"});
  EXPECT_EQ(session.handle_count(), 2u);
  // Releases come after defines: releasing one in the same batch frees no
  // room for it.
  ExpectSessionRefused(session, f.stats(), BatchBuilder(3).Define(3, "c").Define(4, "d").Release(2),
                       absl::StatusCode::kResourceExhausted, RejectReason::kHandleLimit, {"defines[1]", "handle 4"});
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(4).Release(2)).ok());
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(5).Define(3, "c").Define(4, "d")).ok());
  EXPECT_EQ(session.handle_count(), 3u);
}

TEST(SessionLimitsTest, TheAggregatorsLevelLimit) {
  Origin origin;
  SimulatedTime time;
  StatsConfig config;
  config.levels = 2;
  config.max_levels = 3;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok()) << stats.status();
  Session session("s", "r", *stats, SessionLimits{});
  ASSERT_TRUE(
      ApplyTo(session, BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).subscriptions_opened(1))).ok());
  EXPECT_EQ(stats->level_count(), 3u);
  // Another handle on levels that exist takes no room; "a/c" needs one more.
  ExpectSessionRefused(
      session, *stats, BatchBuilder(2).Define(2, "a/b").Define(3, "a/c").Add(DeltaFor(2, kPubRole).bytes(5)),
      absl::StatusCode::kResourceExhausted, RejectReason::kLevelLimit, {"defines[1]", "handle 3", "max_levels"});
  ASSERT_TRUE(ApplyTo(session, BatchBuilder(3).Define(2, "a/b").Add(DeltaFor(2, kPubRole).bytes(5))).ok());
  EXPECT_EQ(stats->level(Path("a/b"))->snapshot(kExt, kPub), Snap(0, 0, 1, 0, 5));
  session.CloseAll();
}

// ---------------------------------------------------------------------------
// Resync

// Over a record with handle 1 ("a/b", external; as subscriber 1 broadcast and
// 2 subscriptions open) and handle 2 ("a/c", external; as publisher 1
// broadcast and 1 subscription open).
class SessionResyncTest : public SessionTest {
 protected:
  void SetUp() override {
    ApplyOk(BatchBuilder(1)
                .Define(1, "a/b")
                .Define(2, "a/c")
                .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(2))
                .Add(DeltaFor(2, kPubRole).broadcasts_opened(1).subscriptions_opened(1)));
  }
};

TEST_F(SessionResyncTest, FewerOpenThanRecordedCountsCloses) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 1).Open(2, kPubRole, 1, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 1));
  EXPECT_EQ(Read("", kExt, kSub), Snap(1, 0, 2, 1));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 1, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 1, 1, 1}));
  EXPECT_EQ(session_.applied_sequence(), 2u);
}

TEST_F(SessionResyncTest, MoreOpenThanRecordedCountsOpens) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 3).Open(2, kPubRole, 2, 1));
  for (const char* key : {"", "a", "a/b"}) EXPECT_EQ(Read(key, kExt, kSub), Snap(1, 0, 3, 0)) << key;
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(2, 0, 1, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{2, 1, 1, 3}));
  EXPECT_EQ(f_.stats().running_publishers(), 4);
}

TEST_F(SessionResyncTest, OpensCountedByResyncStartThePublishers) {
  ApplyOk(BatchBuilder(2)
              .Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(2))
              .Add(DeltaFor(2, kPubRole).broadcasts_closed(1).subscriptions_closed(1)));
  f_.Advance(kInterval);
  ASSERT_EQ(f_.stats().running_publishers(), 0);
  ApplyOk(BatchBuilder(3).Resync().Open(1, kSubRole, 0, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 3, 2));
  EXPECT_EQ(f_.stats().running_publishers(), 3);  // "", "a", "a/b"
  EXPECT_TRUE(f_.stats().level(Path("a/b"))->publisher_running());
  EXPECT_FALSE(f_.stats().level(Path("a/c"))->publisher_running());
}

TEST_F(SessionResyncTest, HandlesAndRolesNotListedHaveTheirGuardsClosed) {
  ApplyOk(BatchBuilder(2).Resync().Open(1, kSubRole, 1, 2));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 1, 1, 1));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snapshot{});
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 1, 2}));
  // Nothing listed: everything closes, the handles stay defined.
  ApplyOk(BatchBuilder(3).Resync());
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(session_.handle_count(), 2u);
  ExpectAllClosed(f_.stats());
  ApplyOk(BatchBuilder(4).Release(1).Release(2));
}

TEST_F(SessionResyncTest, DeltasAfterTheResyncInOneBatch) {
  // Resync to 1 open, then the batch's delta closes it and opens on handle 2.
  ApplyOk(BatchBuilder(2)
              .Resync()
              .Open(1, kSubRole, 1, 1)
              .Open(2, kPubRole, 1, 1)
              .Add(DeltaFor(1, kSubRole).subscriptions_closed(1).bytes(10))
              .Add(DeltaFor(2, kPubRole).subscriptions_opened(2)));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 2, 10));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 3, 0));
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{1, 3, 1, 0}));
  // The deltas are checked against the resynced record: 1 open, 2 closed is
  // refused, and the resync's own closes are not applied either.
  ExpectRefused(BatchBuilder(3).Resync().Open(2, kPubRole, 1, 1).Add(DeltaFor(2, kPubRole).subscriptions_closed(2)),
                absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 2"});
  // A handle resynced to nothing may be released in the same batch.
  ApplyOk(BatchBuilder(4).Resync().Open(2, kPubRole, 1, 3).Release(1));
  EXPECT_EQ(session_.handle_count(), 1u);
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 2, 2, 10));
}

TEST_F(SessionResyncTest, ResyncOnAHandleDefinedInTheSameBatch) {
  ApplyOk(BatchBuilder(2)
              .Define(3, "b", kIntTier)
              .Resync()
              .Open(1, kSubRole, 1, 2)
              .Open(2, kPubRole, 1, 1)
              .Open(3, kPubRole, 1, 2));
  EXPECT_EQ(Read("b", kInt, kPub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 2, 0));
  EXPECT_EQ(Read("a/c", kExt, kPub), Snap(1, 0, 1, 0));
}

// ---------------------------------------------------------------------------
// CloseAll

TEST_F(SessionTest, CloseAllClosesExactlyWhatIsOpenAndReleasesHandles) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/c", kIntTier)
              .Define(3, "d")
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(2).subscriptions_opened(3).bytes(10))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1))
              .Add(DeltaFor(2, kSubRole).broadcasts_opened(1).subscriptions_opened(4).frames(2)));
  ApplyOk(BatchBuilder(2)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1).subscriptions_closed(2))
              .Add(DeltaFor(2, kSubRole).subscriptions_closed(1)));
  session_.CloseAll();
  EXPECT_EQ(session_.handle_count(), 0u);
  EXPECT_EQ(Flat(session_.open_guards()), (std::array<uint64_t, 4>{0, 0, 0, 0}));
  ExpectAllClosed(f_.stats());
  // Exactly what was open: counts of opens and sums unchanged.
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 2, 3, 3, 10));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 1, 1, 1));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(1, 1, 4, 4, 0, 2));
  EXPECT_EQ(Read("", kExt, kPub), Snap(2, 2, 3, 3, 10));
  // A second CloseAll has nothing left to close.
  auto before = AllCounts(f_.stats());
  session_.CloseAll();
  EXPECT_EQ(AllCounts(f_.stats()), before);
  // The publishers stop on their next tick.
  f_.Advance(kInterval);
  EXPECT_EQ(f_.stats().running_publishers(), 0);
  // The handles are gone; the sequence stays.
  EXPECT_EQ(session_.applied_sequence(), 2u);
  EXPECT_EQ(ApplyTo(session_, BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1))).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Checkpoint record

TEST_F(SessionTest, SaveToRecordsTheSequenceHandlesAndOpenGuards) {
  ApplyOk(BatchBuilder(4)
              .Define(1, "//a//b/")
              .Define(9, "c", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(3).subscriptions_opened(4))
              .Add(DeltaFor(9, kSubRole).subscriptions_opened(1).subscriptions_closed(1)));
  pb::CheckpointSession saved;
  session_.SaveTo(&saved);
  EXPECT_EQ(saved.session_id(), "session-1");
  EXPECT_EQ(saved.relay(), "relay-a");
  EXPECT_EQ(saved.applied_sequence(), 4u);
  ASSERT_EQ(saved.handles_size(), 2);
  std::map<uint32_t, pb::CheckpointHandle> by_handle;
  for (const auto& h : saved.handles()) by_handle[h.handle()] = h;
  ASSERT_EQ(by_handle.count(1), 1u);
  ASSERT_EQ(by_handle.count(9), 1u);
  const pb::CheckpointHandle& h1 = by_handle[1];
  EXPECT_EQ(h1.path(), "a/b");
  EXPECT_EQ(h1.tier(), kExtTier);
  EXPECT_EQ(h1.publisher_broadcasts(), 1u);
  EXPECT_EQ(h1.publisher_subscriptions(), 2u);
  EXPECT_EQ(h1.subscriber_broadcasts(), 3u);
  EXPECT_EQ(h1.subscriber_subscriptions(), 4u);
  const pb::CheckpointHandle& h9 = by_handle[9];
  EXPECT_EQ(h9.path(), "c");
  EXPECT_EQ(h9.tier(), kIntTier);
  EXPECT_EQ(h9.publisher_broadcasts() + h9.publisher_subscriptions() + h9.subscriber_broadcasts() +
                h9.subscriber_subscriptions(),
            0u);
}

TEST_F(SessionTest, RestoreRoundTripDoesNotCountAgain) {
  ApplyOk(BatchBuilder(3)
              .Define(1, "a/b")
              .Define(2, "a/c", kIntTier)
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100))
              .Add(DeltaFor(2, kSubRole).broadcasts_opened(2).subscriptions_opened(1)));
  pb::CheckpointSession saved;
  session_.SaveTo(&saved);
  const LevelCounts before = AllCounts(f_.stats());

  auto restored = Session::Restore(saved, f_.stats(), SessionLimits{});
  ASSERT_TRUE(restored.ok()) << restored.status();
  Session& r = **restored;
  EXPECT_EQ(r.id(), "session-1");
  EXPECT_EQ(r.relay(), "relay-a");
  EXPECT_EQ(r.applied_sequence(), 3u);
  EXPECT_EQ(r.handle_count(), 2u);
  EXPECT_EQ(Flat(r.open_guards()), Flat(session_.open_guards()));
  EXPECT_EQ(AllCounts(f_.stats()), before) << "Restore counted the record again";
  pb::CheckpointSession again;
  r.SaveTo(&again);
  EXPECT_EQ(again.applied_sequence(), saved.applied_sequence());
  EXPECT_EQ(again.handles_size(), saved.handles_size());

  // The restored record goes on where the saved one stopped: stale
  // sequences and over-closes are refused, its guards close exactly.
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1)),
                       absl::StatusCode::kOutOfRange, RejectReason::kSequence, {"sequence 3"});
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(4).Add(DeltaFor(1, kPubRole).subscriptions_closed(3)),
                       absl::StatusCode::kInvalidArgument, RejectReason::kOverClose, {"deltas[0]", "handle 1"});
  ExpectSessionRefused(r, f_.stats(), BatchBuilder(5).Define(2, "a/c", kExtTier), absl::StatusCode::kFailedPrecondition,
                       RejectReason::kRedefined, {"defines[0]", "handle 2"});
  ASSERT_TRUE(
      ApplyTo(r, BatchBuilder(6).Define(2, "a/c", kIntTier).Add(DeltaFor(1, kPubRole).subscriptions_closed(2).bytes(1)))
          .ok());
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 2, 101));
  r.CloseAll();
  ExpectAllClosed(f_.stats());
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(2, 2, 1, 1));
}

TEST_F(SessionTest, RestoreRefusesAnInconsistentRecord) {
  pb::CheckpointSession saved;
  saved.set_session_id("s");
  saved.set_applied_sequence(2);
  auto add = [&](uint32_t handle, const std::string& path, int tier) {
    pb::CheckpointHandle* h = saved.add_handles();
    h->set_handle(handle);
    h->set_path(path);
    h->set_tier(static_cast<pb::Tier>(tier));
    h->set_publisher_subscriptions(1);
  };
  add(1, "a", kExtTier);
  add(1, "b", kExtTier);
  auto twice = Session::Restore(saved, f_.stats(), SessionLimits{});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("handle 1"));

  saved.clear_handles();
  add(1, "a", pb::TIER_UNSPECIFIED);
  EXPECT_EQ(Session::Restore(saved, f_.stats(), SessionLimits{}).status().code(), absl::StatusCode::kDataLoss);
  saved.clear_handles();
  add(1, "a/\xff", kExtTier);
  EXPECT_EQ(Session::Restore(saved, f_.stats(), SessionLimits{}).status().code(), absl::StatusCode::kDataLoss);
  // Nothing was counted by any of them.
  EXPECT_EQ(Counted(f_.stats()), LevelCounts{});
}

// ---------------------------------------------------------------------------
// Batches have the effect of the guards they stand for.

TEST(SessionEquivalenceTest, GuardsAndBatchesGiveTheSameSnapshots) {
  StatsFixture by_guards(2);
  StatsFixture by_batches(2);
  {
    // The traffic, through guards.
    Stats& s = by_guards.stats();
    BroadcastStats ab = s.tier(kExt).broadcast("a/b");
    BroadcastStats deep = s.tier(kExt).broadcast("a/b/c/d");
    BroadcastStats ac = s.tier(kInt).broadcast("a/c");
    BroadcastStats x = s.tier(kExt).broadcast("x");
    PublisherStats ab_pub = ab.publisher();
    PublisherTrack video = ab_pub.track("video");
    video.bytes(1200);
    video.frame();
    video.group();
    {
      PublisherTrack audio = ab_pub.track("audio");
      audio.bytes(80);
      audio.frame();
      audio.frame();
    }
    SubscriberStats ab_sub = ab.subscriber();
    SubscriberTrack ab_sub_video = ab_sub.track("video");
    ab_sub_video.bytes(1200);
    {
      PublisherStats deep_pub = deep.publisher();
      PublisherTrack t = deep_pub.track("t");
      t.bytes(5);
      t.group();
    }
    SubscriberStats ac_sub = ac.subscriber();
    SubscriberTrack ac_track = ac_sub.track("x");
    ac_track.frame();
    PublisherStats ac_pub = ac.publisher();  // a broadcast without tracks
    { SubscriberStats x_sub = x.subscriber(); }
    SubscriberTrack x_track = x.subscriber_track("lone");  // a track without a broadcast guard
    x_track.bytes(3);
    by_guards.Advance(kInterval);
    // Leave these open for the comparison below.
    std::vector<PublisherTrack> keep_pub;
    keep_pub.push_back(std::move(video));
    std::vector<SubscriberTrack> keep_sub;
    keep_sub.push_back(std::move(ab_sub_video));
    keep_sub.push_back(std::move(ac_track));
    keep_sub.push_back(std::move(x_track));
    // Compare while they are open and after they close, through the batches
    // below.
    Session session("s", "r", by_batches.stats(), SessionLimits{});
    auto apply = [&](const pb::Batch& batch) {
      absl::Status st = ApplyTo(session, batch);
      ASSERT_TRUE(st.ok()) << st;
    };
    apply(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/b/c/d")
              .Define(3, "a/c", kIntTier)
              .Define(4, "x")
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(1280).frames(3).groups(1))
              .Add(DeltaFor(1, kPubRole).subscriptions_closed(1))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(1200))
              .Add(DeltaFor(2, kPubRole)
                       .broadcasts_opened(1)
                       .broadcasts_closed(1)
                       .subscriptions_opened(1)
                       .subscriptions_closed(1)
                       .bytes(5)
                       .groups(1))
              .Add(DeltaFor(3, kSubRole).broadcasts_opened(1).subscriptions_opened(1).frames(1))
              .Add(DeltaFor(3, kPubRole).broadcasts_opened(1))
              .Add(DeltaFor(4, kSubRole).broadcasts_opened(1).broadcasts_closed(1))
              .Add(DeltaFor(4, kSubRole).subscriptions_opened(1).bytes(3)));
    by_batches.Advance(kInterval);
    EXPECT_EQ(AllCounts(by_batches.stats()), AllCounts(by_guards.stats()));
    EXPECT_EQ(by_batches.stats().running_publishers(), by_guards.stats().running_publishers());
    EXPECT_EQ(by_batches.stats().level_count(), by_guards.stats().level_count());

    // Everything closes.
    keep_pub.clear();
    keep_sub.clear();
    ab_pub = PublisherStats();
    ab_sub = SubscriberStats();
    ac_sub = SubscriberStats();
    ac_pub = PublisherStats();
    apply(BatchBuilder(2)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(3, kSubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(3, kPubRole).broadcasts_closed(1))
              .Add(DeltaFor(4, kSubRole).subscriptions_closed(1)));
    EXPECT_EQ(AllCounts(by_batches.stats()), AllCounts(by_guards.stats()));
    by_guards.Advance(kInterval);
    by_batches.Advance(kInterval);
    EXPECT_EQ(by_batches.stats().running_publishers(), 0);
    EXPECT_EQ(by_guards.stats().running_publishers(), 0);
    ExpectAllClosed(by_batches.stats());
  }
  // Every level, tier and role, one by one, for a readable failure.
  for (const auto& [key, counts] : AllCounts(by_guards.stats())) {
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      EXPECT_EQ(by_batches.Read(key, TierAt(i), RoleAt(i)), counts[i])
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
    }
  }
}

TEST(RejectReasonTest, NamesAreTheMetricLabels) {
  EXPECT_EQ(RejectReasonName(RejectReason::kSequence), "sequence");
  EXPECT_EQ(RejectReasonName(RejectReason::kBatchSize), "batch_size");
  EXPECT_EQ(RejectReasonName(RejectReason::kLevelLimit), "level_limit");
  EXPECT_EQ(RejectReasonName(RejectReason::kOverClose), "over_close");
  EXPECT_EQ(RejectReasonName(RejectReason::kTakenOver), "taken_over");
  EXPECT_EQ(kRejectReasonCount, static_cast<int>(RejectReason::kTakenOver) + 1);
}

}  // namespace
}  // namespace moqstats

namespace moqstats {
namespace {

TEST(SessionReleaseUnlistedTest, ClosesAndReleasesWhatTheResyncDoesNotDefine) {
  StatsFixture f(2);
  Session session("s", "r", f.stats(), SessionLimits{});
  RejectReason why;
  size_t deltas;
  ASSERT_TRUE(session
                  .Apply(BatchBuilder(1)
                             .Define(1, "a/kept")
                             .Define(2, "a/gone")
                             .Add(DeltaFor(1, kPubRole).subscriptions_opened(1))
                             .Add(DeltaFor(2, kPubRole).subscriptions_opened(2).bytes(5)),
                         &why, &deltas)
                  .ok());
  // Handle 2 named by a resync that releases what it does not define: unknown.
  absl::Status refused = session.Apply(
      BatchBuilder(2).Resync().ReleaseUnlisted().Define(1, "a/kept").Add(DeltaFor(2, kPubRole).bytes(1)), &why,
      &deltas);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(why, RejectReason::kUnknownHandle);
  EXPECT_EQ(session.handle_count(), 2u) << "a refused batch changes nothing";

  ASSERT_TRUE(session
                  .Apply(BatchBuilder(3).Resync().ReleaseUnlisted().Define(1, "a/kept").Open(1, kPubRole, 0, 1),
                         &why, &deltas)
                  .ok());
  EXPECT_EQ(session.handle_count(), 1u);
  Snapshot gone = f.Read("a/gone", Tier::kExternal, Role::kPublisher);
  EXPECT_EQ(gone.subscriptions, 2u);
  EXPECT_EQ(gone.subscriptions_closed, 2u) << "the released handle's guards were closed";
  Snapshot kept = f.Read("a/kept", Tier::kExternal, Role::kPublisher);
  EXPECT_EQ(kept.subscriptions, 1u);
  EXPECT_EQ(kept.subscriptions_closed, 0u);
  // The released number is free again.
  EXPECT_TRUE(session.Apply(BatchBuilder(4).Define(2, "b"), &why, &deltas).ok()) << RejectReasonName(why);
}

}  // namespace
}  // namespace moqstats
