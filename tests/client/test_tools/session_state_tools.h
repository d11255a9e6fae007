// Shared by the session_state_*_test.cc files: the handles built directly
// and bumped as the public guards bump them (one relaxed add for a count, a
// release add for a close), helpers reading the batches SessionState makes,
// and the sidecar's side in process (a real moq_stats::server::Session over an
// in-memory aggregator) with the relay's own record to compare it with.

#ifndef MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_SESSION_STATE_TOOLS_H_
#define MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_SESSION_STATE_TOOLS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/src/handle.h"
#include "client/src/session_state.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "moq/stats/v1/stats.pb.h"
#include "proto/counts_proto.h"
#include "server/sessions/session.h"
#include "tests/common/test_tools/counts_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats {
namespace internal {
namespace test {

namespace pb = ::moq::stats::v1;

inline constexpr size_t kPub = static_cast<size_t>(Role::kPublisher);
inline constexpr size_t kSub = static_cast<size_t>(Role::kSubscriber);

inline std::shared_ptr<Handle> NewHandle(uint32_t id, const std::string& path, Tier tier = Tier::kExternal) {
  return std::make_shared<Handle>(path, tier, id);
}

// Bumps, as the guards of stats.h make them.
inline void OpenBroadcast(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role][Counter::kBroadcasts].fetch_add(n, std::memory_order_relaxed);
}
inline void CloseBroadcast(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role][Counter::kBroadcastsClosed].fetch_add(n, std::memory_order_release);
}
inline void OpenTrack(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role][Counter::kSubscriptions].fetch_add(n, std::memory_order_relaxed);
}
inline void CloseTrack(Handle& h, size_t role, uint64_t n = 1) {
  h.slots[role][Counter::kSubscriptionsClosed].fetch_add(n, std::memory_order_release);
}
inline void Bytes(Handle& h, size_t role, uint64_t n) {
  h.slots[role][Counter::kBytes].fetch_add(n, std::memory_order_relaxed);
}
inline void Frame(Handle& h, size_t role) { h.slots[role][Counter::kFrames].fetch_add(1, std::memory_order_relaxed); }
inline void Group(Handle& h, size_t role) { h.slots[role][Counter::kGroups].fetch_add(1, std::memory_order_relaxed); }

// Closes every guard still open on `h`.
inline void CloseEverything(Handle& h) {
  HandleValues v = h.Load();
  for (size_t r = 0; r < 2; ++r) {
    CloseBroadcast(h, r, v[r].broadcasts - v[r].broadcasts_closed);
    CloseTrack(h, r, v[r].subscriptions - v[r].subscriptions_closed);
  }
}

inline int Entries(const pb::Batch& b) {
  return b.defines_size() + b.deltas_size() + b.releases_size() + b.open_size();
}

// The deltas of `batches` summed per (handle, role index).
inline std::map<std::pair<uint32_t, size_t>, Counts> SumDeltas(const std::vector<pb::Batch>& batches) {
  std::map<std::pair<uint32_t, size_t>, Counts> out;
  for (const pb::Batch& b : batches) {
    for (const pb::HandleDelta& d : b.deltas()) {
      size_t role = d.role() == pb::ROLE_PUBLISHER ? kPub : kSub;
      Counts& v = out[{d.handle(), role}];
      v = v + CountsFromDelta(d);
    }
  }
  return out;
}

// Checks that no batch carries a delta, open entry or release of a handle
// not defined in it or in an earlier batch of `batches` (or in `known`).
inline ::testing::AssertionResult DefinedBeforeUse(const std::vector<pb::Batch>& batches,
                                                   std::set<uint32_t> known = {}) {
  for (const pb::Batch& b : batches) {
    for (const pb::Define& d : b.defines()) known.insert(d.handle());
    for (const pb::HandleDelta& d : b.deltas()) {
      if (!known.count(d.handle())) {
        return ::testing::AssertionFailure()
               << "batch " << b.sequence() << " has a delta of handle " << d.handle() << " before its define";
      }
    }
    for (const pb::OpenGuards& o : b.open()) {
      if (!known.count(o.handle())) {
        return ::testing::AssertionFailure()
               << "batch " << b.sequence() << " has open guards of handle " << o.handle() << " before its define";
      }
    }
    for (uint32_t r : b.releases()) {
      if (!known.count(r)) {
        return ::testing::AssertionFailure()
               << "batch " << b.sequence() << " releases handle " << r << " before its define";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The sidecar's side, in process: a moq_stats::server::Session over an aggregator of
// two levels (root, first segment, first two segments) on simulated time.

// What a checkpoint holds: every level's counters and the session's record,
// taken at one moment.
struct Checkpoint {
  std::vector<std::pair<std::string, std::array<moq_stats::Counts, moq_stats::server::kTierRoleCount>>> levels;
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
    moq_stats::server::RejectReason reason = moq_stats::server::RejectReason::kNone;
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
                                             << moq_stats::server::RejectReasonName(last_reject_) << "): " << s << "\n"
                                             << b.DebugString();
      }
    }
    return ::testing::AssertionSuccess();
  }

  uint64_t applied() const { return session_->applied_sequence(); }
  size_t handle_count() const { return session_->handle_count(); }
  std::array<moq_stats::server::Session::OpenGuards, 2> open_guards() const { return session_->open_guards(); }

  // The counters of a level; all zero when the level does not exist.
  Counts Read(const std::string& key, Tier tier, size_t role) const {
    auto level = fixture_->stats().level(moq_stats::Path(key));
    if (!level) return Counts{};
    return level->snapshot(tier, static_cast<Role>(role));
  }
  std::vector<std::string> LevelKeys() const {
    std::vector<std::string> keys;
    for (const auto& level : fixture_->stats().ListLevels(moq_stats::Path(), std::nullopt, 100000)) {
      keys.push_back(level->key().str());
    }
    return keys;
  }

  Checkpoint TakeCheckpoint() const {
    Checkpoint cp;
    for (const auto& level : fixture_->stats().ListLevels(moq_stats::Path(), std::nullopt, 100000)) {
      std::array<moq_stats::Counts, moq_stats::server::kTierRoleCount> counts;
      for (size_t i = 0; i < moq_stats::server::kTierRoleCount; ++i) {
        counts[i] = level->snapshot(moq_stats::server::TierAt(i), moq_stats::server::RoleAt(i));
      }
      cp.levels.emplace_back(level->key().str(), counts);
    }
    session_->SaveTo(&cp.session);
    return cp;
  }

  // A crash and restart: a fresh aggregator and session restored from `cp`,
  // as the daemon restores its last checkpoint file.
  void Crash(const Checkpoint& cp) {
    auto fixture = std::make_unique<moq_stats::server::test::StatsFixture>(2);
    for (const auto& [key, counts] : cp.levels) fixture->stats().RestoreLevel(moq_stats::Path(key), counts);
    auto restored = moq_stats::server::Session::Restore(cp.session, fixture->stats(), limits_);
    ASSERT_TRUE(restored.ok()) << restored.status();
    session_ = *std::move(restored);
    fixture_ = std::move(fixture);
  }

  // The session was not resumed within the grace period: its guards are
  // closed and it is forgotten; the next stream opens a new one.
  void Expire() {
    session_->CloseAll();
    session_ = std::make_unique<moq_stats::server::Session>("relay-session", "test-relay", fixture_->stats(), limits_);
  }

 private:
  void Fresh() {
    fixture_ = std::make_unique<moq_stats::server::test::StatsFixture>(2);
    session_ = std::make_unique<moq_stats::server::Session>("relay-session", "test-relay", fixture_->stats(), limits_);
  }

  moq_stats::server::SessionLimits limits_;
  // Destroyed explicitly, session first.
  std::unique_ptr<moq_stats::server::test::StatsFixture> fixture_;
  std::unique_ptr<moq_stats::server::Session> session_;
  moq_stats::server::RejectReason last_reject_ = moq_stats::server::RejectReason::kNone;
};

// "" and the first one and two segments of `path`.
inline std::vector<std::string> LevelKeysOf(const std::string& path) {
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
  Counts Expected(const std::string& key, Tier tier, size_t role) const {
    Counts sum;
    for (const auto& h : handles_) {
      if (h->tier != tier) continue;
      std::vector<std::string> keys = LevelKeysOf(h->path);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
      sum = sum + h->Load()[role];
    }
    return sum;
  }
  // Per (key, tier, role), the values now.
  std::map<std::tuple<std::string, int, size_t>, Counts> Snapshot() const {
    std::map<std::tuple<std::string, int, size_t>, Counts> out;
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
inline ::testing::AssertionResult SidecarMatches(const Sidecar& sidecar, const Record& record) {
  for (const std::string& key : record.Keys()) {
    for (Tier tier : {Tier::kExternal, Tier::kInternal}) {
      for (size_t r = 0; r < 2; ++r) {
        Counts got = sidecar.Read(key, tier, r);
        Counts want = record.Expected(key, tier, r);
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
inline ::testing::AssertionResult Drain(SessionState& state, Sidecar& sidecar) {
  for (int round = 0; round < 1000 && !state.Idle(); ++round) {
    std::vector<pb::Batch> batches = state.Collect();
    ::testing::AssertionResult applied = sidecar.ApplyAll(batches);
    if (!applied) return applied;
    state.OnAck(sidecar.applied());
  }
  if (!state.Idle()) return ::testing::AssertionFailure() << "not idle after 1000 rounds";
  return ::testing::AssertionSuccess();
}

}  // namespace test
}  // namespace internal
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_SESSION_STATE_TOOLS_H_
