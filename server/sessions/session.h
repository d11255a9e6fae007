#ifndef MOQ_STATS_SERVER_SESSIONS_SESSION_H_
#define MOQ_STATS_SERVER_SESSIONS_SESSION_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tier_label.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// Why a batch was refused; the label of the rejected-batches metric.
enum class RejectReason {
  kNone = 0,
  kSequence,       // sequence not above the last applied one
  kBatchSize,      // more entries than max_batch_entries
  kHandleLimit,    // more handles than max_handles
  kLevelLimit,     // the aggregator's max_levels reached
  kUnknownHandle,  // a handle never defined (or released)
  kInvalidPath,    // not UTF-8, too long, too many segments
  kInvalidEnum,    // tier or role unspecified or unknown
  kRedefined,      // a handle defined again with another path or tier
  kOverClose,      // more guards closed than were open
  kReleaseOpen,    // a handle released with guards still open
  kDuplicate,      // an entry repeated where it must be unique
  kDraining,       // the sidecar is shutting down
  kTakenOver,      // a newer stream carries the session
  kResyncPart,     // a resync part out of turn (another sequence, or no resync)
  kResyncMemory,   // resync parts held across sessions past their memory cap
  kCounterWrap,    // a delta would take a level's counter past 2^64-1
  kTierLimit,      // a new named tier or session root past --max-tiers / --max-session-roots
};
inline constexpr int kRejectReasonCount = static_cast<int>(RejectReason::kTierLimit) + 1;

// "sequence", "batch_size", ...: the metric label of `reason`.
std::string_view RejectReasonName(RejectReason reason);

struct SessionLimits {
  uint32_t max_handles = 65536;
  uint32_t max_batch_entries = 4096;
};

// One relay session's record in the sidecar: the handles it defined (each a
// broadcast path in a tier, with its BroadcastStats, or a presence handle:
// an auth root in a tier, with its PresenceEntry), the guards it holds open
// on each handle per role, and the last batch sequence applied. The guards
// themselves live in the relay; this record is what lets the sidecar refuse
// a close of a guard never opened, close what a vanished relay left open, and
// resync after it lost state.
//
// Sans-IO: it takes batches and returns statuses, and knows nothing of gRPC
// or time. Not thread-safe: its SessionRegistry serializes every call.
class Session {
 public:
  Session(std::string id, std::string relay, Stats stats, SessionLimits limits);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& id() const { return id_; }
  const std::string& relay() const { return relay_; }
  uint64_t applied_sequence() const { return applied_sequence_; }
  size_t handle_count() const { return handles_.size(); }

  // Validates `batch` whole, then applies it (defines, resync, deltas,
  // releases). On error nothing is applied, `*reason` says why and the status
  // (see stats.proto for the codes) names the offending entry. On success
  // `*deltas` is the number of handle-deltas applied.
  //
  // A resync part with resync_continues is held, not applied (`*held` is
  // set): the parts of one sequence add up until the part without it, then
  // the whole is validated and applied as one batch. A batch of another
  // sequence, or not a resync, while parts are held drops them and is
  // refused (kResyncPart); so does a whole over a resync's entry limit
  // (kBatchSize), checked as the parts arrive.
  absl::Status Apply(const moq::stats::v1::Batch& batch, RejectReason* reason, size_t* deltas, bool* held = nullptr);

  // The bytes of resync parts held (their wire size), and dropping them (the
  // stream carrying them ended).
  size_t pending_resync_bytes() const { return pending_bytes_; }
  void DropPendingResync();

  // Closes every guard still open, as the relay would have, and releases
  // every handle: what a session that ended without resuming leaves behind.
  void CloseAll();

  // Guards open now, summed over handles: [role] = {broadcasts,
  // subscriptions, announced, sessions}.
  struct OpenGuards {
    uint64_t broadcasts = 0;
    uint64_t subscriptions = 0;
    uint64_t announced = 0;
    uint64_t sessions = 0;  // presence handles
  };
  std::array<OpenGuards, 2> open_guards() const;

  // The record, for a checkpoint, and back. Restore re-acquires the handles'
  // levels without counting anything: the levels' counters are restored
  // separately.
  void SaveTo(moq::stats::v1::CheckpointSession* out) const;
  // `reopen_presence`: the checkpoint has no presence counters, so the
  // sessions a presence handle holds open count again as opened (else they
  // are in the restored counters already).
  static absl::StatusOr<std::unique_ptr<Session>> Restore(const moq::stats::v1::CheckpointSession& saved, Stats stats,
                                                          SessionLimits limits, bool reopen_presence = true);

 private:
  struct Handle {
    Path path;  // a presence handle's auth root
    Tier tier = Tier::kExternal;
    BroadcastStats stats;
    std::array<OpenGuards, 2> open;  // by Role
    // The tier's label ("", "internal" or a named tier) and, for a presence
    // handle, its entry (null when the node format is off).
    std::string label;
    bool presence = false;
    std::shared_ptr<PresenceEntry> sessions;
    // Whether the handle counts in the levels.
    bool in_levels() const { return !presence && !IsNamedTier(label); }
  };
  // What Validation works out for a batch, and the rules it checks
  // (server/sessions/internal/session_validation.h).
  struct Plan;
  class Validation;

  // Holds or completes a resync sent in parts (see Apply).
  absl::Status ApplyPart(const moq::stats::v1::Batch& batch, RejectReason* reason, size_t* deltas, bool* held);
  absl::Status ApplyWhole(const moq::stats::v1::Batch& batch, RejectReason* reason, size_t* deltas);
  // Applies a batch Validation accepted, as `plan` says.
  void Commit(const moq::stats::v1::Batch& batch, Plan& plan);
  // Applies opens or closes that take `handle`'s record in `role` to `target`.
  static void MoveTo(Handle& handle, Role role, const OpenGuards& target);
  // Gives a handle defined or restored its BroadcastStats or PresenceEntry.
  static void Acquire(const Stats& stats, Handle& handle);

  const std::string id_;
  const std::string relay_;
  const Stats stats_;
  const SessionLimits limits_;
  uint64_t applied_sequence_ = 0;
  absl::flat_hash_map<uint32_t, Handle> handles_;
  // The parts of a resync received so far, merged; null when none.
  std::unique_ptr<moq::stats::v1::Batch> pending_;
  size_t pending_bytes_ = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_SESSION_H_
