// SessionState, the sans-IO relay side of a session: what each Collect
// carries, how batches are split and bounded, what a welcome resends, when a
// resync is due and what it says. The batches it makes are applied to a real
// sidecar-side moqstats::Session over an in-memory aggregator, to show the
// sidecar accepts every one of them and its totals are exact (or, after a
// simulated crash, within the crash bound).
//
// The handles are built directly and their slots bumped as the public guards
// bump them (one relaxed add for a count, a release add for a close).

#include "client/src/session_state.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "client/src/handle.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/session.h"
#include "tests/server/test_tools/stats_fixture.h"

namespace moq_stats {
namespace internal {
namespace {

namespace pb = ::moq::stats::v1;
using ::google::protobuf::util::MessageDifferencer;

constexpr size_t kPub = static_cast<size_t>(Role::kPublisher);
constexpr size_t kSub = static_cast<size_t>(Role::kSubscriber);

std::shared_ptr<Handle> NewHandle(uint32_t id, const std::string& path, Tier tier = Tier::kExternal) {
  return std::make_shared<Handle>(path, tier, id);
}

// Bumps, as the guards of stats.h make them.
void OpenBroadcast(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role].broadcasts.fetch_add(n, std::memory_order_relaxed);
}
void CloseBroadcast(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role].broadcasts_closed.fetch_add(n, std::memory_order_release);
}
void OpenTrack(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role].subscriptions.fetch_add(n, std::memory_order_relaxed);
}
void CloseTrack(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role].subscriptions_closed.fetch_add(n, std::memory_order_release);
}
void Bytes(Handle& h, size_t role, uint64_t n) { h.slots[role].bytes.fetch_add(n, std::memory_order_relaxed); }
void Frame(Handle& h, size_t role) { h.slots[role].frames.fetch_add(1, std::memory_order_relaxed); }
void Group(Handle& h, size_t role) { h.slots[role].groups.fetch_add(1, std::memory_order_relaxed); }

// Closes every guard still open on `h`.
void CloseEverything(Handle& h) {
  HandleValues v = h.Load();
  for (size_t r = 0; r < 2; ++r) {
    CloseBroadcast(h, r, v[r].broadcasts - v[r].broadcasts_closed);
    CloseTrack(h, r, v[r].subscriptions - v[r].subscriptions_closed);
  }
}

int Entries(const pb::Batch& b) { return b.defines_size() + b.deltas_size() + b.releases_size() + b.open_size(); }

pb::Role RoleToProto(size_t role) { return role == kPub ? pb::ROLE_PUBLISHER : pb::ROLE_SUBSCRIBER; }

// The counters a HandleDelta adds, as RoleValues (opened counts in the
// broadcasts and subscriptions fields).
RoleValues ValuesOf(const pb::HandleDelta& d) {
  RoleValues v;
  v.broadcasts = d.broadcasts_opened();
  v.broadcasts_closed = d.broadcasts_closed();
  v.subscriptions = d.subscriptions_opened();
  v.subscriptions_closed = d.subscriptions_closed();
  v.bytes = d.bytes();
  v.frames = d.frames();
  v.groups = d.groups();
  return v;
}

RoleValues operator+(RoleValues a, const RoleValues& b) {
  a.broadcasts += b.broadcasts;
  a.broadcasts_closed += b.broadcasts_closed;
  a.subscriptions += b.subscriptions;
  a.subscriptions_closed += b.subscriptions_closed;
  a.bytes += b.bytes;
  a.frames += b.frames;
  a.groups += b.groups;
  return a;
}
RoleValues operator-(RoleValues a, const RoleValues& b) {
  a.broadcasts -= b.broadcasts;
  a.broadcasts_closed -= b.broadcasts_closed;
  a.subscriptions -= b.subscriptions;
  a.subscriptions_closed -= b.subscriptions_closed;
  a.bytes -= b.bytes;
  a.frames -= b.frames;
  a.groups -= b.groups;
  return a;
}

std::string Show(const RoleValues& v) {
  return absl::StrCat("{broadcasts ", v.broadcasts, "/", v.broadcasts_closed, " closed, subscriptions ",
                      v.subscriptions, "/", v.subscriptions_closed, " closed, bytes ", v.bytes, ", frames ", v.frames,
                      ", groups ", v.groups, "}");
}

// The deltas of `batches` summed per (handle, role index).
std::map<std::pair<uint32_t, size_t>, RoleValues> SumDeltas(const std::vector<pb::Batch>& batches) {
  std::map<std::pair<uint32_t, size_t>, RoleValues> out;
  for (const pb::Batch& b : batches) {
    for (const pb::HandleDelta& d : b.deltas()) {
      size_t role = d.role() == pb::ROLE_PUBLISHER ? kPub : kSub;
      RoleValues& v = out[{d.handle(), role}];
      v = v + ValuesOf(d);
    }
  }
  return out;
}

// Checks that no batch carries a delta, open entry or release of a handle
// not defined in it or in an earlier batch of `batches` (or in `known`).
::testing::AssertionResult DefinedBeforeUse(const std::vector<pb::Batch>& batches, std::set<uint32_t> known = {}) {
  for (const pb::Batch& b : batches) {
    for (const pb::Define& d : b.defines()) known.insert(d.handle());
    for (const pb::HandleDelta& d : b.deltas()) {
      if (!known.count(d.handle())) {
        return ::testing::AssertionFailure() << "batch " << b.sequence() << " has a delta of handle " << d.handle()
                                             << " before its define";
      }
    }
    for (const pb::OpenGuards& o : b.open()) {
      if (!known.count(o.handle())) {
        return ::testing::AssertionFailure() << "batch " << b.sequence() << " has open guards of handle "
                                             << o.handle() << " before its define";
      }
    }
    for (uint32_t r : b.releases()) {
      if (!known.count(r)) {
        return ::testing::AssertionFailure() << "batch " << b.sequence() << " releases handle " << r
                                             << " before its define";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The sidecar's side, in process: a moqstats::Session over an aggregator of
// two levels (root, first segment, first two segments) on simulated time.

moqstats::Tier ServerTier(Tier t) { return t == Tier::kExternal ? moqstats::Tier::kExternal : moqstats::Tier::kInternal; }
moqstats::Role ServerRole(size_t r) { return r == kPub ? moqstats::Role::kPublisher : moqstats::Role::kSubscriber; }

RoleValues FromSnapshot(const moqstats::Snapshot& s) {
  RoleValues v;
  v.broadcasts = s.broadcasts;
  v.broadcasts_closed = s.broadcasts_closed;
  v.subscriptions = s.subscriptions;
  v.subscriptions_closed = s.subscriptions_closed;
  v.bytes = s.bytes;
  v.frames = s.frames;
  v.groups = s.groups;
  return v;
}

// What a checkpoint holds: every level's counters and the session's record,
// taken at one moment.
struct Checkpoint {
  std::vector<std::pair<std::string, std::array<moqstats::Snapshot, moqstats::kTierRoleCount>>> levels;
  pb::CheckpointSession session;
};

class Sidecar {
 public:
  Sidecar() { Fresh(); }
  ~Sidecar() {
    session_.reset();  // its handles reference the aggregator's levels
    fixture_.reset();
  }

  // Applies one batch; the status the sidecar would answer.
  absl::Status Apply(const pb::Batch& batch) {
    moqstats::RejectReason reason = moqstats::RejectReason::kNone;
    absl::Status s = session_->Apply(batch, &reason, nullptr);
    if (!s.ok()) last_reject_ = reason;
    return s;
  }
  // Applies every batch, failing the test on the first refusal.
  ::testing::AssertionResult ApplyAll(const std::vector<pb::Batch>& batches) {
    for (const pb::Batch& b : batches) {
      absl::Status s = Apply(b);
      if (!s.ok()) {
        return ::testing::AssertionFailure() << "the sidecar refused batch " << b.sequence() << " ("
                                             << moqstats::RejectReasonName(last_reject_) << "): " << s << "\n"
                                             << b.DebugString();
      }
    }
    return ::testing::AssertionSuccess();
  }

  uint64_t applied() const { return session_->applied_sequence(); }
  size_t handle_count() const { return session_->handle_count(); }
  std::array<moqstats::Session::OpenGuards, 2> open_guards() const { return session_->open_guards(); }

  // The counters of a level; all zero when the level does not exist.
  RoleValues Read(const std::string& key, Tier tier, size_t role) const {
    auto level = fixture_->stats().level(moqstats::Path(key));
    if (!level) return RoleValues{};
    return FromSnapshot(level->snapshot(ServerTier(tier), ServerRole(role)));
  }
  std::vector<std::string> LevelKeys() const {
    std::vector<std::string> keys;
    for (const auto& level : fixture_->stats().ListLevels(moqstats::Path(), std::nullopt, 100000)) {
      keys.push_back(level->key().str());
    }
    return keys;
  }

  Checkpoint TakeCheckpoint() const {
    Checkpoint cp;
    for (const auto& level : fixture_->stats().ListLevels(moqstats::Path(), std::nullopt, 100000)) {
      std::array<moqstats::Snapshot, moqstats::kTierRoleCount> counts;
      for (size_t i = 0; i < moqstats::kTierRoleCount; ++i) {
        counts[i] = level->snapshot(moqstats::TierAt(i), moqstats::RoleAt(i));
      }
      cp.levels.emplace_back(level->key().str(), counts);
    }
    session_->SaveTo(&cp.session);
    return cp;
  }

  // A crash and restart: a fresh aggregator and session restored from `cp`,
  // as the daemon restores its last checkpoint file.
  void Crash(const Checkpoint& cp) {
    auto fixture = std::make_unique<moqstats::testing::StatsFixture>(2);
    for (const auto& [key, counts] : cp.levels) fixture->stats().RestoreLevel(moqstats::Path(key), counts);
    auto restored = moqstats::Session::Restore(cp.session, fixture->stats(), limits_);
    ASSERT_TRUE(restored.ok()) << restored.status();
    session_ = *std::move(restored);
    fixture_ = std::move(fixture);
  }

  // The session was not resumed within the grace period: its guards are
  // closed and it is forgotten; the next stream opens a new one.
  void Expire() {
    session_->CloseAll();
    session_ = std::make_unique<moqstats::Session>("relay-session", "test-relay", fixture_->stats(), limits_);
  }

 private:
  void Fresh() {
    fixture_ = std::make_unique<moqstats::testing::StatsFixture>(2);
    session_ = std::make_unique<moqstats::Session>("relay-session", "test-relay", fixture_->stats(), limits_);
  }

  moqstats::SessionLimits limits_;
  // Destroyed explicitly, session first.
  std::unique_ptr<moqstats::testing::StatsFixture> fixture_;
  std::unique_ptr<moqstats::Session> session_;
  moqstats::RejectReason last_reject_ = moqstats::RejectReason::kNone;
};

// "" and the first one and two segments of `path`.
std::vector<std::string> LevelKeysOf(const std::string& path) {
  std::vector<std::string> keys = {""};
  size_t slash = path.find('/');
  keys.push_back(path.substr(0, slash));
  if (slash != std::string::npos) {
    size_t second = path.find('/', slash + 1);
    keys.push_back(path.substr(0, second));
  }
  return keys;
}

// The relay's record: every handle it ever made (released ones too), whose
// slots hold every bump.
class Record {
 public:
  void Add(std::shared_ptr<Handle> h) { handles_.push_back(std::move(h)); }
  // What the record says for the level `key`, summed over its handles.
  RoleValues Expected(const std::string& key, Tier tier, size_t role) const {
    RoleValues sum;
    for (const auto& h : handles_) {
      if (h->tier != tier) continue;
      std::vector<std::string> keys = LevelKeysOf(h->path);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
      sum = sum + h->Load()[role];
    }
    return sum;
  }
  // Per (key, tier, role), the values now.
  std::map<std::tuple<std::string, int, size_t>, RoleValues> Snapshot() const {
    std::map<std::tuple<std::string, int, size_t>, RoleValues> out;
    for (const std::string& key : Keys()) {
      for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
        for (size_t r = 0; r < 2; ++r) out[{key, static_cast<int>(tier), r}] = Expected(key, tier, r);
      }
    }
    return out;
  }
  std::set<std::string> Keys() const {
    std::set<std::string> keys;
    for (const auto& h : handles_) {
      for (const std::string& k : LevelKeysOf(h->path)) keys.insert(k);
    }
    return keys;
  }

 private:
  std::vector<std::shared_ptr<Handle>> handles_;
};

// Every level of the record matches the sidecar exactly.
::testing::AssertionResult SidecarMatches(const Sidecar& sidecar, const Record& record) {
  for (const std::string& key : record.Keys()) {
    for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
      for (size_t r = 0; r < 2; ++r) {
        RoleValues got = sidecar.Read(key, tier, r);
        RoleValues want = record.Expected(key, tier, r);
        if (got != want) {
          return ::testing::AssertionFailure()
                 << "level \"" << key << "\" " << (tier == Tier::kExternal ? "external" : "internal") << "/"
                 << (r == kPub ? "publisher" : "subscriber") << ": sidecar " << Show(got) << ", relay " << Show(want);
        }
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Collects, applies and acknowledges until the state is idle (bounded).
::testing::AssertionResult Drain(SessionState& state, Sidecar& sidecar) {
  for (int round = 0; round < 1000 && !state.Idle(); ++round) {
    std::vector<pb::Batch> batches = state.Collect();
    ::testing::AssertionResult applied = sidecar.ApplyAll(batches);
    if (!applied) return applied;
    state.OnAck(sidecar.applied());
  }
  if (!state.Idle()) return ::testing::AssertionFailure() << "not idle after 1000 rounds";
  return ::testing::AssertionSuccess();
}

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
  RoleValues root = sidecar.Read("", Tier::kExternal, kPub);
  EXPECT_EQ(root.broadcasts, 1u);
  EXPECT_EQ(root.broadcasts_closed, 1u);
  EXPECT_EQ(root.subscriptions, 3u);
  EXPECT_EQ(root.subscriptions_closed, 3u);
}

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

  RoleValues level = sidecar.Read("live/gone", Tier::kExternal, kPub);
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

// ---------------------------------------------------------------------------
// Welcome: resend and resync

// Four batches in flight, none acknowledged, on a first welcome.
struct FourInFlight {
  SessionState state{1024, 16};
  std::shared_ptr<Handle> h = NewHandle(1, "a/b");
  std::vector<pb::Batch> sent;

  FourInFlight() {
    EXPECT_TRUE(state.OnWelcome(false, 0).empty()) << "a fresh session: nothing to resend or resync";
    state.Track(h);
    for (uint64_t i = 1; i <= 4; ++i) {
      if (i == 1) OpenTrack(*h, kPub);
      Bytes(*h, kPub, i);
      std::vector<pb::Batch> b = state.Collect();
      EXPECT_EQ(b.size(), 1u);
      sent.insert(sent.end(), b.begin(), b.end());
    }
  }
};

TEST(SessionStateTest, ResumedWelcomeResendsExactlyTheBatchesAfterApplied) {
  FourInFlight f;
  ASSERT_EQ(f.sent.size(), 4u);
  std::vector<pb::Batch> resend = f.state.OnWelcome(true, 2);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(resend[0], f.sent[2])) << resend[0].DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(resend[1], f.sent[3])) << resend[1].DebugString();
  EXPECT_EQ(f.state.inflight(), 2u);
  EXPECT_EQ(f.state.acked_sequence(), 2u);
  EXPECT_EQ(f.state.resyncs(), 0u);

  // Another break before any ack: the same two again.
  resend = f.state.OnWelcome(true, 2);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_EQ(resend[0].sequence(), 3u);
  EXPECT_EQ(resend[1].sequence(), 4u);

  // Applied everything before the break: nothing to resend.
  EXPECT_TRUE(f.state.OnWelcome(true, 4).empty());
  EXPECT_EQ(f.state.inflight(), 0u);
  EXPECT_EQ(f.state.resyncs(), 0u);
}

TEST(SessionStateTest, ResumedWelcomeAtZeroResendsEverythingInOrder) {
  FourInFlight f;
  std::vector<pb::Batch> resend = f.state.OnWelcome(true, 0);
  ASSERT_EQ(resend.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(MessageDifferencer::Equals(resend[i], f.sent[i])) << i;
  EXPECT_EQ(f.state.resyncs(), 0u);
}

TEST(SessionStateTest, AfterAnAckNothingIsResent) {
  FourInFlight f;
  f.state.OnAck(4);
  EXPECT_EQ(f.state.inflight(), 0u);
  EXPECT_TRUE(f.state.OnWelcome(true, 4).empty());
  // New batches continue the sequence.
  Bytes(*f.h, kPub, 1);
  std::vector<pb::Batch> next = f.state.Collect();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence(), 5u);
  EXPECT_EQ(next[0].defines_size(), 0);
}

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
      auto it = open.find({h->id, static_cast<int>(RoleToProto(r))});
      if (broadcasts == 0 && subscriptions == 0) {
        EXPECT_TRUE(it == open.end()) << "handle " << h->id << " role " << r << " has no guard open";
      } else {
        ASSERT_TRUE(it != open.end()) << "handle " << h->id << " role " << r << " not in open";
        EXPECT_EQ(it->second->broadcasts(), broadcasts) << "handle " << h->id << " role " << r;
        EXPECT_EQ(it->second->subscriptions(), subscriptions) << "handle " << h->id << " role " << r;
      }
      // Sums: what was sent and never acknowledged; no opens or closes.
      RoleValues want = now[r] - acked.at(h->id)[r];
      want.broadcasts = want.broadcasts_closed = want.subscriptions = want.subscriptions_closed = 0;
      EXPECT_EQ((sums[{h->id, r}]), want) << "handle " << h->id << " role " << r << ": "
                                         << Show(sums[{h->id, r}]) << " vs " << Show(want);
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

// ---------------------------------------------------------------------------
// Against the sidecar's Session

// A reproducible workload: guards opened and closed, sums, handles created
// and released, over a few paths in both tiers.
class Workload {
 public:
  explicit Workload(SessionState* state, Record* record, uint32_t seed = 1) : state_(state), record_(record), rng_(seed) {}

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
        RoleValues v = sidecar.Read(key, tier, r);
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
        RoleValues got = sidecar.Read(key, tier, r);
        RoleValues want = record.Expected(key, tier, r);
        EXPECT_EQ(got.bytes, want.bytes) << key;
        EXPECT_EQ(got.frames, want.frames) << key;
        EXPECT_EQ(got.groups, want.groups) << key;
        EXPECT_EQ(got.broadcasts - got.broadcasts_closed, want.broadcasts - want.broadcasts_closed) << key;
        EXPECT_EQ(got.subscriptions - got.subscriptions_closed, want.subscriptions - want.subscriptions_closed)
            << key;
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
    RoleValues got = sidecar.Read(key, tier, r);
    // The crash bound: lost at most what was bumped from the checkpoint to
    // the crash.
    auto value_at = [&](const auto& snapshot) {
      auto it = snapshot.find(k);
      return it == snapshot.end() ? RoleValues{} : it->second;  // a level made later
    };
    RoleValues bumped_between = value_at(at_crash) - value_at(at_checkpoint);
    RoleValues lo = final_value - bumped_between;
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
  RoleValues root = sidecar.Read("", Tier::kExternal, kPub);
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
  RoleValues level = sidecar.Read("gone", Tier::kExternal, kPub);
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
}  // namespace internal
}  // namespace moq_stats
