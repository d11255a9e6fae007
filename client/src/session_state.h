#ifndef MOQ_STATS_CLIENT_SRC_SESSION_STATE_H_
#define MOQ_STATS_CLIENT_SRC_SESSION_STATE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "client/src/handle.h"
#include "moq/stats/v1/stats.pb.h"

namespace moq_stats {
namespace internal {

// The relay side of a session, without I/O: which handles the sidecar knows,
// what of their counters was sent and what was acknowledged, and the batches
// in flight. The flusher asks it for the next batches; the transport tells it
// of welcomes and acks; it answers with what to (re)send.
//
// Exactness rests on three rules:
//  - every batch carries the difference between the counters as read now
//    and as last sent, so no bump is sent twice or skipped;
//  - batches in flight are kept until acknowledged and resent, in order,
//    after a resume, from the sequence the sidecar says it applied;
//  - when the sidecar lost state (it applied less than was acknowledged, or
//    does not know a session that has handles), one resync batch re-defines
//    every live handle, states its open guards and carries the sums not yet
//    acknowledged; what was acknowledged and then lost is the crash bound.
//
// Memory: one entry per live handle, plus at most max_inflight batches.
// Not thread-safe: the library's core serializes every call.
class SessionState {
 public:
  // `max_batch_entries` is at least kMinBatchEntries: a handle's define, its
  // two deltas and its release always go in one batch.
  SessionState(uint32_t max_batch_entries, uint32_t max_inflight);

  static constexpr uint32_t kMinBatchEntries = 4;

  // Lowers (or raises) the entries per batch, e.g. to the sidecar's limit.
  void SetMaxBatchEntries(uint32_t max_batch_entries);

  // Starts tracking a new handle; it is defined in the next batch.
  void Track(std::shared_ptr<Handle> handle);

  // Handles to let go of: their final counts and a release go in the next
  // batch, and they are forgotten once that is acknowledged. The caller
  // guarantees nothing will bump them again.
  void Release(uint32_t handle_id);

  // The next batches: defines, the deltas of what changed since the last
  // batch, releases; split at max_batch_entries, and no more than keeps the
  // batches in flight within max_inflight. Each returned batch is in flight
  // from now on.
  std::vector<moq::stats::v1::Batch> Collect();

  // Whether the sidecar understands presence handles
  // (Welcome.session_presence). Until it says so, presence handles are not
  // sent at all: their counts wait in their slots, and one let go is
  // forgotten.
  void SetSessionPresence(bool understood) { session_presence_ = understood; }

  // Whether the sidecar takes a resync in parts (Welcome.resync_parts), and
  // the most bytes one part may hold then; 0: one batch, whatever its size.
  void SetResyncPartBytes(size_t max_part_bytes) { resync_part_bytes_ = max_part_bytes; }

  // The sidecar welcomed a stream: returns the batches to send before any
  // other (resends, or one resync, in parts when SetResyncPartBytes allows).
  // `expired_applied` (Welcome.expired_applied_sequence): the batches in
  // flight up to it were applied by a session that since expired, so they
  // count as acknowledged and their sums are not carried by the resync.
  std::vector<moq::stats::v1::Batch> OnWelcome(bool resumed, uint64_t applied_sequence, uint64_t expired_applied = 0);

  // The sidecar applied every batch up to `sequence`. Returns how many
  // batches in flight that acknowledged.
  size_t OnAck(uint64_t sequence);

  size_t inflight() const { return inflight_.size(); }
  size_t tracked() const { return tracked_.size(); }
  uint64_t acked_sequence() const { return acked_sequence_; }
  uint64_t resyncs() const { return resyncs_; }
  uint64_t batches_acked() const { return batches_acked_; }

  // True when nothing changed since the last batch and nothing is in flight.
  bool Idle() const;

 private:
  struct Tracked {
    std::shared_ptr<Handle> handle;
    HandleValues sent;          // as of the last batch sent
    HandleValues acked;         // as of the last batch acknowledged
    bool defined = false;       // a define was sent (since the last resync)
    bool releasing = false;     // the relay let go; release when all is sent
    bool release_sent = false;  // the release is in a batch in flight
  };
  struct Inflight {
    // A resync sent in parts: the parts before `batch`, its last one.
    std::vector<moq::stats::v1::Batch> leading;
    moq::stats::v1::Batch batch;
    // Per handle that had deltas in it: the counters it covers.
    std::vector<std::pair<std::shared_ptr<Tracked>, HandleValues>> covers;
    std::vector<std::shared_ptr<Tracked>> releases;
  };

  // A batch under construction.
  struct Builder;

  // A presence handle the sidecar does not understand.
  bool Withheld(const Tracked& t) const { return t.handle->presence && !session_presence_; }

  // The resync, as its parts (one when it fits or parts are not allowed).
  std::vector<moq::stats::v1::Batch> Resync();

  uint32_t max_batch_entries_;
  size_t resync_part_bytes_ = 0;
  bool session_presence_ = false;
  const uint32_t max_inflight_;
  uint32_t next_handle_ = 0;                              // where the next Collect starts
  std::map<uint32_t, std::shared_ptr<Tracked>> tracked_;  // by handle id, in id order
  std::deque<Inflight> inflight_;
  uint64_t next_sequence_ = 1;
  uint64_t acked_sequence_ = 0;
  bool welcomed_before_ = false;
  uint64_t resyncs_ = 0;
  uint64_t batches_acked_ = 0;
};

}  // namespace internal
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_SRC_SESSION_STATE_H_
