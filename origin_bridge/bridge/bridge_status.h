#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BRIDGE_STATUS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BRIDGE_STATUS_H_

// What the bridge reports about itself (GetInfo, /metrics), and the board its
// sessions, dialer and server write it on.
//
// StatusBoard is safe for concurrent access from multiple threads.

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace moq_stats::bridge {

// One session's counters, as its io thread last saw them.
struct SessionCounters {
  // Gauges.
  uint64_t announced_broadcasts = 0;
  uint64_t subscriptions_active = 0;
  // Totals.
  uint64_t subscriptions_served = 0;
  uint64_t groups_sent = 0;
  uint64_t group_bytes_sent = 0;
  uint64_t groups_skipped = 0;  // replaced by a newer group while waiting for credit
  uint64_t wire_bytes_sent = 0;
  uint64_t wire_bytes_received = 0;
};

struct DialStatus {
  bool enabled = false;
  std::string url;  // redacted
  bool connected = false;
  std::string version;      // "moq-lite-05" while connected
  std::string subprotocol;  // WebSocket subprotocol while connected
  absl::Time connected_since = absl::InfinitePast();
  uint64_t reconnects = 0;  // redials after a failure or a session's end
  std::string last_error;   // why the last attempt or session ended
};

struct ServeStatus {
  bool enabled = false;
  std::string listen;  // host:port as bound (the actual port)
  uint64_t sessions = 0;
  uint64_t sessions_total = 0;
  uint64_t sessions_refused = 0;      // over the session limit
  uint64_t sessions_idle_closed = 0;  // closed after the idle timeout with no subscription
  std::string last_error;             // e.g. why it could not bind
};

struct BridgeStatus {
  DialStatus dial;
  ServeStatus serve;
  // Gauges over live sessions, totals over every session since start.
  SessionCounters totals;
};

class StatusBoard {
 public:
  StatusBoard() = default;
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // A live session's latest counters (totals must not go down).
  void UpdateSession(uint64_t session_id, const SessionCounters& counters);
  // The session ended: its totals are kept, its gauges dropped.
  void RemoveSession(uint64_t session_id);

  // Edits the dial or serve part under the board's lock. `edit` must not
  // call back into the board.
  template <typename Fn>
  void EditDial(Fn edit) {
    absl::MutexLock lock(&mu_);
    edit(status_.dial);
  }
  template <typename Fn>
  void EditServe(Fn edit) {
    absl::MutexLock lock(&mu_);
    edit(status_.serve);
  }

  BridgeStatus Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  BridgeStatus status_ ABSL_GUARDED_BY(mu_);  // totals: of ended sessions only
  std::map<uint64_t, SessionCounters> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BRIDGE_STATUS_H_
