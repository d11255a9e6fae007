#ifndef MOQ_STATS_SERVER_SESSIONS_ENDED_SESSIONS_H_
#define MOQ_STATS_SERVER_SESSIONS_ENDED_SESSIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "moq/stats/v1/checkpoint.pb.h"

namespace moq_stats::server {

// What the sidecar remembers of sessions that ended without their relay
// closing them (grace expiry, eviction): the id and the last sequence
// applied. A relay that comes back with the id learns from it which of its
// unacknowledged batches were applied, so that its resync does not count
// them again (Welcome.expired_applied_sequence).
//
// Bounded in time and count: an entry is forgotten `keep` after its session
// ended, and past `max_entries` the oldest go first. Sans-IO (times are
// given), not thread-safe: its SessionRegistry serializes every call.
class EndedSessions {
 public:
  EndedSessions(absl::Duration keep, uint32_t max_entries) : keep_(keep), max_entries_(max_entries) {}

  // Session `id` ended at `ended` having applied up to `applied`; replaces
  // what was remembered of the id.
  void Remember(const std::string& id, uint64_t applied, absl::Time ended);
  // The last sequence applied by the ended session `id`, if still
  // remembered at `now`.
  std::optional<uint64_t> Find(std::string_view id, absl::Time now);
  // The relay closed the session: nothing more to tell it.
  void Forget(const std::string& id);
  size_t size() const { return entries_.size(); }

  // Into and out of a checkpoint (Checkpoint.expired_sessions). Restore
  // skips ids a relay could not open with (empty, over 128 bytes, not
  // UTF-8) and entries already past `keep` at `now`.
  void SaveTo(moq::stats::v1::Checkpoint* out) const;
  void Restore(const moq::stats::v1::Checkpoint& checkpoint, absl::Time now);

 private:
  struct Entry {
    uint64_t applied_sequence = 0;
    absl::Time ended;
  };
  // Forgets what is past `keep` at `now` or over max_entries.
  void Prune(absl::Time now);

  const absl::Duration keep_;
  const uint32_t max_entries_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::set<std::pair<absl::Time, std::string>> by_end_;  // the same entries, oldest first
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_ENDED_SESSIONS_H_
