#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_IDLE_SESSIONS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_IDLE_SESSIONS_H_

// Which serve-mode sessions have held no live subscription for the idle
// timeout. A session is idle from the moment it is tracked until its first
// subscription; it stops being idle while it holds at least one, and its
// idle time starts again from zero when its last subscription ends.
//
// Sans-IO: it reads no clock and owns no timer; the caller passes the time
// and asks for the next deadline. Every operation is O(log n) in the
// sessions tracked, so a sweep wakes for the sessions that expire, never
// once per session per interval.
//
// Not thread-safe: the serve mode's io thread owns it.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace moq_stats::bridge {

class IdleSessions {
 public:
  // `timeout` must be positive.
  explicit IdleSessions(absl::Duration timeout) : timeout_(timeout) {}
  IdleSessions(const IdleSessions&) = delete;
  IdleSessions& operator=(const IdleSessions&) = delete;

  absl::Duration timeout() const { return timeout_; }

  // A new session, idle from `now`. Tracking an id again starts it over.
  void Track(uint64_t id, absl::Time now);

  // The session's subscriptions went from none to some (`subscribed`) or
  // from some to none, at `now`. Untracked ids are ignored.
  void SetSubscribed(uint64_t id, bool subscribed, absl::Time now);

  // The session ended; it is no longer tracked.
  void Forget(uint64_t id);

  // The sessions idle for at least the timeout at `now`, oldest first. They
  // are no longer tracked: the caller closes them.
  std::vector<uint64_t> TakeExpired(absl::Time now);

  // When the next session reaches the timeout, if any is idle.
  std::optional<absl::Time> NextDeadline() const;

  size_t tracked() const { return sessions_.size(); }
  size_t idle() const { return deadlines_.size(); }

 private:
  const absl::Duration timeout_;
  // Per tracked session: its deadline while idle, nullopt while subscribed.
  std::map<uint64_t, std::optional<absl::Time>> sessions_;
  // (deadline, id) of the idle sessions.
  std::set<std::pair<absl::Time, uint64_t>> deadlines_;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_IDLE_SESSIONS_H_
