#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SESSION_CONTEXT_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SESSION_CONTEXT_H_

// What the parts of a PublisherSession (the session's own stream handling,
// AnnounceServer, SubscriptionServer) share. SessionContext holds the
// session's options, mux, origin and counters and the ready queue the
// origin's notify callbacks fill; it is owned by the session and used on its
// thread only. The functions below are the helpers more than one part uses:
// the code a request the origin cannot serve is refused with, frame
// timestamps, and the encoding of frames and Group streams.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "origin/origin.h"
#include "origin_bridge/lite/internal/ready_queue.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/publisher_session.h"
#include "origin_bridge/stream_mux.h"

namespace moq_stats::lite::internal {

struct SessionContext {
  PublisherOptions options;
  StreamMux* mux = nullptr;  // Borrowed from the session's owner.
  Origin* origin = nullptr;  // Borrowed from the session's owner.
  PublisherCounters counters;
  std::shared_ptr<ReadyQueue> ready;
  absl::Time start_time;  // timestamp_epoch, else the clock at construction.
  bool closed = false;
  // The last OpenStream(uni) failed for lack of stream credit.
  bool credit_exhausted = false;
};

// How a request for `broadcast`'s track is refused when the origin cannot
// serve it: Unroutable when no broadcast is announced at that path,
// NotFound when the broadcast has no such track (or group).
ErrorCode RefusalCode(const Origin& origin, std::string_view broadcast);

// The timestamp (milliseconds, the lite-05 track timescale) written with a
// frame sent now.
uint64_t FrameTimestamp(const SessionContext& ctx);

// Appends one frame: lite-05 [zigzag timestamp delta][size][payload],
// lite-03/04 [size][payload].
void AppendFrame(Version version, uint64_t timestamp_delta, std::string_view payload, std::string* out);

// The whole of a Group stream: type 0, GROUP{subscribe_id, sequence}, the
// one frame (its delta is the absolute timestamp: the first frame of a
// stream deltas against 0).
std::string EncodeGroupStream(Version version, uint64_t subscribe_id, uint64_t sequence, std::string_view payload,
                              uint64_t timestamp);

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SESSION_CONTEXT_H_
