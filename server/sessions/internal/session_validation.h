#ifndef MOQ_STATS_SERVER_SESSIONS_INTERNAL_SESSION_VALIDATION_H_
#define MOQ_STATS_SERVER_SESSIONS_INTERNAL_SESSION_VALIDATION_H_

// How a Session checks a batch before applying it: one function per rule of
// the batch contract (stats.proto, Batch), and the plan they work out for
// Session::Commit. Private to server/sessions/.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"

namespace moq_stats::server {
namespace internal {

// One key per (handle, role), for the maps of open guards.
inline uint64_t GuardKey(uint32_t handle, Role role) { return (uint64_t{handle} << 1) | static_cast<uint64_t>(role); }

}  // namespace internal

// What validation worked out, for Commit to apply without looking again.
struct Session::Plan {
  // Handles this batch defines anew.
  absl::flat_hash_map<uint32_t, Handle> defined;
  // Per delta: the existing handle it applies to, or null for a handle
  // defined by this batch (looked up once it is inserted). Stable because
  // validation reserved room in handles_ for the new handles first.
  std::vector<Handle*> targets;
  std::vector<Role> roles;
  // With resync: the guards open per (handle, role) after it.
  absl::flat_hash_map<uint64_t, OpenGuards> resync;
  // Room for the new handles' levels, held until they are created.
  Stats::LevelReservation room;
  // With resync and release_unlisted: the handles the batch defines.
  absl::flat_hash_set<uint32_t> kept;
};

// Checks one batch against the session's record, rule by rule in the order
// of Run, and fills the Plan as it goes. The first rule broken refuses the
// whole batch, with the status and reason stats.proto gives, naming the
// first entry that breaks it. Changes nothing of the session but the
// capacity of its handles_. For one batch: construct, Run once, drop.
class Session::Validation {
 public:
  Validation(Session& session, const moq::stats::v1::Batch& batch, Plan& plan);
  Validation(const Validation&) = delete;
  Validation& operator=(const Validation&) = delete;

  // OK when every rule holds; otherwise the refusal, with `*reason` set.
  absl::Status Run(RejectReason* reason);

 private:
  // The rules, in the order Run checks them.
  absl::Status CheckSequence();
  absl::Status CheckBatchSize();
  absl::Status CheckDefines();
  absl::Status CheckTierCaps();
  absl::Status ReserveLevelsForDefines();
  absl::Status CheckResyncOpen();
  absl::Status CheckDeltas();
  absl::Status CheckCounterRoom();
  absl::Status CheckReleases();

  // One entry of a rule.
  absl::Status CheckDefine(int i);
  absl::Status CheckDelta(int i);
  // The guards deltas[i] opens and closes in `role`, against `open`, which
  // it updates.
  absl::Status CheckOpensAndCloses(int i, Role role, OpenGuards& open);
  absl::Status CheckRelease(int i, absl::flat_hash_set<uint32_t>& released);
  // The first define whose new levels, with those of the defines before it,
  // are more than the aggregator has room for; nullopt when all fit.
  std::optional<int> FirstDefineOverLevelRoom() const;

  // The handle's record, existing or defined by this batch, or null.
  Handle* Find(uint32_t handle);
  // Whether defines[define] counts in the levels (not presence, not a named
  // tier).
  bool InLevels(int define) const;
  // An entry of a presence handle carries only sessions, in the publisher
  // role; one of another handle carries none. `traffic` and `sessions` are
  // nonzero when the entry has counts of that kind.
  absl::Status CheckKind(const std::string& entry, const Handle& record, Role role, uint64_t traffic,
                         uint64_t sessions);
  // "\"path\" (tier)", or for a presence handle the auth root, for refusals.
  static std::string Describe(const Handle& handle);
  // Whether the batch's open entries, deltas and releases may name `handle`:
  // with release_unlisted, only the handles the batch defines.
  bool Usable(uint32_t handle) const;
  // The guards open on (handle, role) at this point of the batch: after the
  // resync if any, then after each delta checked so far.
  OpenGuards& OpenNow(uint32_t handle, Role role, const Handle& record);
  // Records `reason` for Run and returns `status`.
  absl::Status Refuse(RejectReason reason, absl::Status status);

  Session& session_;
  const moq::stats::v1::Batch& batch_;
  Plan& plan_;
  const bool release_unlisted_;
  RejectReason reason_ = RejectReason::kNone;
  // By GuardKey: what OpenNow has worked out so far.
  absl::flat_hash_map<uint64_t, OpenGuards> running_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_INTERNAL_SESSION_VALIDATION_H_
