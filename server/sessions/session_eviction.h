#ifndef MOQ_STATS_SERVER_SESSIONS_SESSION_EVICTION_H_
#define MOQ_STATS_SERVER_SESSIONS_SESSION_EVICTION_H_

#include <cstddef>
#include <optional>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace moq_stats::server {

// Which known session makes room for a new one when the registry holds
// max_sessions, so that streams which open and go silent cannot keep relays
// out while a relay that is sending is never pushed out. In order:
//
//  1. A session that holds nothing: no batch applied, so no handle, guard or
//     sequence to lose. Its relay, if any, starts afresh on its next stream
//     and nothing is counted twice. One in its grace period before an
//     attached one; among them the one silent longest.
//  2. The session in its grace period longest. Its guards are closed as when
//     the grace period runs out; its relay, if it comes back, resyncs.
//  3. The attached session silent longest, once its stream has sent nothing
//     (no batch) for the idle timeout. The relay library sends nothing while
//     it has nothing to report, so an idle relay is only ever evicted for a
//     newcomer, never cut off otherwise. Its guards are closed; its stream is
//     ended, and the relay reconnects and resyncs.
//
// An attached session that applied a batch within the idle timeout is never
// evicted: when every session is such, the newcomer is refused.
struct EvictionCandidate {
  bool attached = false;       // carried by a stream (else in its grace period)
  bool holds_nothing = false;  // no batch applied
  absl::Time last_active;      // the last attach, batch or detach
};

// The index in `candidates` of the session to evict at `now`, or nullopt.
std::optional<size_t> ChooseEviction(absl::Span<const EvictionCandidate> candidates, absl::Time now,
                                     absl::Duration idle_timeout);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_SESSION_EVICTION_H_
