#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_PUBLISHER_SESSION_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_PUBLISHER_SESSION_H_

// The publisher side of one moq-lite session (lite-03, lite-04, lite-05) as
// a sans-IO state machine over a StreamMux: it serves the broadcasts of an
// in-memory Origin to the peer (a relay that dialled us, a relay we dialled,
// or a MoQ client).
//
// - lite-05: sends our SETUP on a unidirectional stream at Start and reads
//   the peer's.
// - Announce streams: on ANNOUNCE_REQUEST, announces every active broadcast
//   under the prefix (lite-05: ANNOUNCE_OK with the count first), then every
//   change, unannouncing a broadcast when its producer goes. The stream stays
//   open for the session.
// - Track streams (lite-05): TRACK is answered with TRACK_INFO and FIN.
// - Subscribe streams: the latest group (or the first at or after the
//   requested start) and every later one goes out, each group on its own
//   unidirectional Group stream (type 0, GROUP header, its frames). A
//   single-frame group's stream is finished with its frame; a group that
//   may still grow (TrackProducer::StartGroup) keeps its stream open, each
//   new frame written to it, until the next group starts or the track ends
//   (FIN). A subscriber arriving mid-group gets that group from its frame
//   0. A group cut short (a newer one replaced its held frames, or the
//   peer unsubscribed) has its stream reset with Cancel.
//   - Answer: lite-03/04 SUBSCRIBE_OK{the subscriber's priority, unordered,
//     no latency bound, no start/end} at once; lite-05 SUBSCRIBE_START{first
//     group} when the first group is about to go out (nothing while the
//     track has none yet).
//   - Range: groups above the end group are parked (up to 64, oldest
//     dropped) until a SUBSCRIBE_UPDATE raises or clears the end; an
//     update's start raises the floor. Reaching the end group does not end
//     the subscription.
//   - FIN from the peer unsubscribes. The track ending (its broadcast went
//     away) ends the subscription: lite-05 SUBSCRIBE_END{one past the last
//     group seen}, then FIN once nothing is held.
// - Fetch streams (lite-05): the requested group (every frame written so
//   far), if it is the one cached.
// - Requests for a broadcast not announced here are refused (stream reset
//   and STOP_SENDING) with Unroutable (30), for a track or group it does not
//   have with NotFound (13), as moq-lite publishers do.
// - A frame that cannot go out now (a new group and the peer's
//   stream-count credit ran out, the mux holds more than max_queued_bytes
//   unsent, or other subscriptions are already waiting) is held; a
//   subscription holds the frames of one group at most, a newer group
//   replacing them (latest wins, counted in groups_skipped). Held frames go
//   out round-robin, one group per subscription per turn, when credit
//   returns (OnStreamCreditAvailable) or at the next Poll().
// - Stream types this version does not serve (Probe, Goaway, Fetch/Track
//   before lite-05, Setup before lite-05, the peer's Group streams, unknown
//   types) are refused on that stream only (reset and/or STOP_SENDING); the
//   session goes on.
// - Malformed bytes in a message (or a declared length above
//   max_message_size) close the session with the code the codec reports
//   (Decode, BoundsExceeded, ...), unless close_on_stream_error is false,
//   in which case only the offending stream is reset.
//
// Not thread-safe: every method runs on the thread that drives the mux,
// except that the `wake` callback is called from the origin's writer
// threads.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "origin/origin.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/stream_mux.h"

namespace moq_stats {
class Clock;
}  // namespace moq_stats

namespace moq_stats::lite {

struct PublisherOptions {
  Version version = Version::kLite05;
  // Our origin (hop) id, sent in lite-05 SETUP / ANNOUNCE_OK and as our hop
  // on lite-04. Non-zero, at most 2^62-1.
  uint64_t origin_id = 1;
  // Largest control message accepted from the peer; a larger declared
  // length closes the session (BoundsExceeded).
  size_t max_message_size = 64 * 1024;
  // Most subscriptions (and fetches) open at once; more are refused with
  // BoundsExceeded on their stream.
  size_t max_subscriptions = 65536;
  // While the mux holds more unsent bytes than this, new groups are held
  // (newest per subscription) as when stream credit is exhausted.
  uint64_t max_queued_bytes = 4 * 1024 * 1024;
  // A malformed message closes the whole session (true) or only resets its
  // stream (false).
  bool close_on_stream_error = true;
  // lite-05 SETUP extras. A client on a transport without a request URI
  // (plain TCP) sends its request path (with any ?jwt= query) here; a
  // publish-only client may declare kSetupRolePublisher. A server sends
  // neither. The Origin parameter (origin_id) is always sent.
  std::optional<std::string> setup_path;
  std::optional<uint64_t> setup_role;
  // lite-05 frames carry a timestamp (track timescale 1000: milliseconds).
  // With a clock, each frame carries the milliseconds from timestamp_epoch
  // (or, without one, from the session's construction) to when the frame is
  // sent; without a clock, 0. Borrowed; must outlive the session.
  const Clock* clock = nullptr;
  std::optional<absl::Time> timestamp_epoch;
};

// Totals and gauges for status pages.
struct PublisherCounters {
  uint64_t announce_requests = 0;
  uint64_t announcements_sent = 0;    // ANNOUNCE messages (active and ended)
  uint64_t announced_broadcasts = 0;  // gauge: distinct broadcasts announced now
  uint64_t subscriptions_served = 0;  // total accepted
  uint64_t subscriptions_active = 0;  // gauge
  uint64_t subscriptions_refused = 0;
  uint64_t fetches_served = 0;
  uint64_t groups_sent = 0;
  uint64_t group_bytes_sent = 0;  // frame payload bytes
  uint64_t groups_skipped = 0;    // replaced by a newer one while waiting for credit
};

class PublisherSession : public StreamEvents {
 public:
  // `mux` and `origin` are borrowed and must outlive the session. `wake` is
  // called, from any thread and without locks held, when the origin has
  // news for this session; the owner must then call Poll() on the session's
  // thread. `wake` must not call into the session.
  PublisherSession(PublisherOptions options, StreamMux* mux, Origin* origin, std::function<void()> wake);
  ~PublisherSession() override;
  PublisherSession(const PublisherSession&) = delete;
  PublisherSession& operator=(const PublisherSession&) = delete;

  // Sends our SETUP (lite-05). Call once, first.
  void Start();

  // Moves what the origin produced since the last call (announcements,
  // groups) onto the mux, and groups held for credit or queued bytes that
  // can go now. The owner calls it after each wake and after taking bytes
  // off the mux (the mux has no "bytes sent" event).
  void Poll();

  Version version() const;
  bool closed() const;
  // Why the session ended, once closed.
  const std::optional<CloseInfo>& close_info() const;
  const PublisherCounters& counters() const;

  // StreamEvents.
  void OnStreamOpened(uint64_t id) override;
  void OnStreamData(uint64_t id, std::string_view data, bool fin) override;
  void OnStreamReset(uint64_t id, uint64_t code) override;
  void OnStopSending(uint64_t id, uint64_t code) override;
  void OnStreamCreditAvailable() override;
  void OnClosed(const CloseInfo& info) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace moq_stats::lite

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_PUBLISHER_SESSION_H_
