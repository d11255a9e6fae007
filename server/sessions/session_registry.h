#ifndef MOQ_STATS_SERVER_SESSIONS_SESSION_REGISTRY_H_
#define MOQ_STATS_SERVER_SESSIONS_SESSION_REGISTRY_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/refusal_log.h"
#include "common/scheduler.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/sessions/ended_sessions.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

struct SessionRegistryOptions {
  // How long a session whose stream ended may be resumed before the guards
  // it held are closed.
  absl::Duration grace = absl::Seconds(10);
  // Sessions known at once (attached or in their grace period). A new
  // session at the limit evicts one (see session_eviction.h) or is refused.
  uint32_t max_sessions = 1024;
  // How long an attached session's stream must have sent nothing before the
  // session may be evicted for a new one at max_sessions. Far above the relay
  // library's 50 ms flush interval; a relay with nothing to report sends
  // nothing, and is never cut off for that alone.
  absl::Duration idle_eviction = absl::Seconds(60);
  SessionLimits limits;
  // Bytes of resync parts held, over every session, waiting for their last
  // part (a resync too large for one message). A part that would take them
  // past it is refused with RESOURCE_EXHAUSTED (and its session's parts
  // dropped); its relay retries the resync after its backoff.
  size_t max_pending_resync_bytes = size_t{256} << 20;
  // A session that ended by grace expiry or eviction after applying a batch
  // is remembered (its id and last applied sequence) for this long, and at
  // most max_remembered of them (the oldest go first), in checkpoints too: a
  // relay that comes back with its id learns what was applied
  // (Welcome.expired_applied_sequence) and does not send it again.
  absl::Duration remember_expired = absl::Minutes(10);
  uint32_t max_remembered = 4096;
};

// Every relay session the sidecar knows, and the rules that keep their counts
// exact:
//  - a stream attaches to a session by id, resuming it when known; a newer
//    stream on the same id takes it over from an older one;
//  - a stream that ends without Close detaches its session, which is kept
//    for the grace period, then has every guard it still held closed;
//  - at max_sessions a new session evicts one that holds nothing, is in its
//    grace period, or is silent past idle_eviction (session_eviction.h);
//  - Capture takes a consistent cut of all level counters and sessions for a
//    checkpoint: no batch is half applied in it;
//  - Drain stops new streams and batches for a graceful shutdown, after the
//    batches in flight.
//
// Safe for concurrent access from multiple threads without external
// synchronization. Lock order: apply_mu_, then mu_, then an entry's mu.
class SessionRegistry : public std::enable_shared_from_this<SessionRegistry> {
 private:
  struct Entry;

 public:
  // `scheduler` and `clock` must outlive the registry.
  static std::shared_ptr<SessionRegistry> Create(Stats stats, Scheduler* scheduler, const Clock* clock,
                                                 SessionRegistryOptions options);
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // One stream's hold on a session. Cheap to copy.
  class Attachment {
   public:
    Attachment() = default;
    bool valid() const { return entry_ != nullptr; }

   private:
    friend class SessionRegistry;
    Attachment(std::shared_ptr<Entry> entry, uint64_t stream) : entry_(std::move(entry)), stream_(stream) {}
    std::shared_ptr<Entry> entry_;
    uint64_t stream_ = 0;
  };

  struct Attached {
    Attachment attachment;
    bool resumed = false;
    uint64_t applied_sequence = 0;
    // For a new session: the last sequence an ended session with this id
    // applied, if remembered; else 0.
    uint64_t expired_applied_sequence = 0;
  };

  // Called, with no lock held, when the stream loses its session: ABORTED
  // when a newer stream took it over, RESOURCE_EXHAUSTED when it was evicted
  // for a new session. The stream's later calls fail.
  using LostFn = std::function<void(const absl::Status& why)>;

  // Attaches a stream to session `id`, creating the session when unknown
  // (evicting one at max_sessions if the rule allows). INVALID_ARGUMENT for
  // an id that is empty, over 128 bytes or not UTF-8, and for a relay name
  // over 256 bytes or not UTF-8; RESOURCE_EXHAUSTED at
  // max_sessions when none may be evicted; UNAVAILABLE while draining. If
  // another stream carries the session, its `on_lost` is called.
  absl::StatusOr<Attached> Attach(std::string_view id, std::string_view relay, LostFn on_lost);

  // Applies a batch of the attached session (see Session::Apply). ABORTED
  // when the session was taken over, UNAVAILABLE while draining. A resync
  // part that is held, not applied yet, sets `*held` (nothing to acknowledge).
  absl::Status Apply(const Attachment& attachment, const moq::stats::v1::Batch& batch, bool* held = nullptr);

  // The stream ended without Close: the grace period starts.
  void Detach(const Attachment& attachment);

  // The relay closed the session: its guards are closed and it is forgotten.
  void Close(const Attachment& attachment);

  // Refuses new streams and batches from now on; returns once the batches in
  // flight are applied.
  void Drain();
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  // A consistent cut of every level's and every path's counters and every
  // session's record.
  moq::stats::v1::Checkpoint Capture(int64_t taken_unix_ms) const;

  // Restores a checkpoint into this fresh registry and its fresh Stats:
  // level and path counters, then sessions, each detached with its grace
  // period starting now. DATA_LOSS when a record is inconsistent (nothing partial
  // is kept of that session), and DATA_LOSS with nothing restored at all
  // when the counts fail CheckCheckpointCounts (closed above opened, or
  // sessions holding more guards open than their levels count).
  absl::Status Restore(const moq::stats::v1::Checkpoint& checkpoint);

  const SessionLimits& limits() const { return options_.limits; }

  // Self-counters.
  struct Counts {
    uint64_t known = 0;     // sessions known now
    uint64_t attached = 0;  // of which carried by a stream
    uint64_t created = 0;
    uint64_t resumed = 0;
    uint64_t taken_over = 0;
    uint64_t expired = 0;  // grace period ran out
    uint64_t evicted = 0;  // to make room for a new session
    uint64_t closed = 0;   // by Close
    uint64_t batches_applied = 0;
    uint64_t deltas_applied = 0;
    uint64_t remembered = 0;            // ended sessions remembered now
    uint64_t resync_parts_held = 0;     // resync parts received and held for their last part
    uint64_t pending_resync_bytes = 0;  // bytes of them held now
    std::array<uint64_t, kRejectReasonCount> rejected{};
  };
  Counts counts() const;

  // The guards open now in session `id`, or NOT_FOUND.
  absl::StatusOr<std::array<Session::OpenGuards, 2>> OpenGuards(std::string_view id) const;

 private:
  struct Entry {
    Entry(std::string id, std::unique_ptr<Session> s) : id(std::move(id)), session(std::move(s)) {}
    const std::string id;
    absl::Mutex mu;
    std::unique_ptr<Session> session ABSL_GUARDED_BY(mu);
    uint64_t stream ABSL_GUARDED_BY(mu) = 0;  // the stream carrying it; 0 when detached
    uint64_t detach_epoch ABSL_GUARDED_BY(mu) = 0;
    bool gone ABSL_GUARDED_BY(mu) = false;       // expired, evicted or closed
    absl::Time last_active ABSL_GUARDED_BY(mu);  // the last attach, batch or detach
    LostFn on_lost ABSL_GUARDED_BY(mu);
  };

  // A session evicted to make room: closed outside mu_, its stream (if any)
  // told outside every lock.
  struct Evicted {
    std::unique_ptr<Session> session;
    LostFn on_lost;
    absl::Status why;
  };

  SessionRegistry(Stats stats, Scheduler* scheduler, const Clock* clock, SessionRegistryOptions options);

  void StartGraceLocked(Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(entry.mu);
  // Evicts a session to make room for a new one, if the rule allows; false
  // when none may go.
  bool EvictLocked(Evicted* evicted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Expire(const std::string& id, uint64_t epoch);
  void CountReject(RejectReason reason);
  // Drops the resync parts `session` holds, and their bytes from the total.
  void DropPending(Session& session);

  // For a checkpoint without path counters (written with the node format
  // off, or before they were kept): the guards its sessions hold count
  // again as opened on their paths, so closing them keeps every path's
  // closed counts at or below its opened ones. Adds the entries to `held`.
  void ReopenHeldGuards(const moq::stats::v1::Checkpoint& checkpoint, PathTable& table,
                        std::vector<std::shared_ptr<PathEntry>>* held) const;

  // Constant after construction.
  const Stats stats_;
  Scheduler* const scheduler_;
  const Clock* const clock_;
  const SessionRegistryOptions options_;

  // Batches (and anything else that changes counters) hold it shared;
  // Capture and Drain hold it exclusively.
  mutable absl::Mutex apply_mu_;
  std::atomic<bool> draining_{false};

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(apply_mu_);
  std::map<std::string, std::shared_ptr<Entry>> sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_ ABSL_GUARDED_BY(mu_) = 1;
  // Sessions that ended after applying a batch, for relays coming back.
  EndedSessions ended_ ABSL_GUARDED_BY(mu_);

  // Self-counters, relaxed: they order nothing.
  std::atomic<uint64_t> created_{0}, resumed_{0}, taken_over_{0}, expired_{0}, evicted_{0}, closed_{0};
  std::atomic<uint64_t> attached_{0};
  std::atomic<uint64_t> batches_applied_{0}, deltas_applied_{0}, resync_parts_held_{0};
  // Bytes of resync parts held over every session (see options).
  std::atomic<size_t> pending_resync_bytes_{0};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejected_{};
  // Batches refused for the tier caps (--max-tiers, --max-session-roots):
  // one log line per interval, however many.
  RefusalLog tier_limit_log_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_SESSION_REGISTRY_H_
