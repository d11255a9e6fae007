#ifndef MOQ_STATS_SERVER_ADMIN_SSE_WATCH_H_
#define MOQ_STATS_SERVER_ADMIN_SSE_WATCH_H_

#include <cstddef>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "absl/time/time.h"
#include "common/path.h"
#include "origin/origin.h"
#include "server/grpc/watch_queue.h"

namespace moq_stats::server {

struct SseWatchOptions {
  // What one stream may hold unwritten, coalesced to the latest frame of
  // each track; past it the stream is dropped.
  WatchQueueLimits limits = {/*max_ended=*/4096, /*max_bytes=*/16 << 20};
  // A write that takes longer than this drops the stream (a client that
  // stopped reading).
  absl::Duration write_timeout = absl::Seconds(30);
  // A comment line is sent after this long without an event, so that
  // proxies keep the connection open.
  absl::Duration heartbeat = absl::Seconds(15);
  // How often waiting events are gathered into one write.
  absl::Duration flush_interval = absl::Milliseconds(200);
  // One write carries at most about this many bytes of events.
  size_t max_write_bytes = 256 << 10;
};

// GET /api/v1/watch: the origin's stats broadcasts under a prefix as
// Server-Sent Events, mirroring the Watch RPC. Each event is named "watch"
// and carries a JSON array of WatchEvents in order, in the shape of their
// JSON mapping:
//   {"announce":{"path":"...","active":true|false}}
//   {"frame":{"path":"...","track":"publisher.json","sequence":N,"payload":{...}}}
// except that payload is the level frame as published (JSON), not base64.
// What waits is written as one event (up to max_write_bytes): a browser
// spends far more per event than per record. A client that connects (or
// reconnects) first hears every broadcast active now with its latest
// frames, then every change.
//
// What waits to be written goes through a WatchQueue (the Watch RPC's), so a
// client that reads slowly skips to newer frames and costs bounded memory;
// a stream whose queue overflows, or whose write stalls past write_timeout,
// is closed. Writes happen on the socket's executor (the admin listener's
// thread), at most one at a time, gathered every flush_interval.
class SseWatch {
 public:
  // Writes the response header and starts streaming on `socket`. The stream
  // keeps itself alive until the connection ends; `slot` is released then
  // (a stream count). `origin` must outlive the socket's io_context.
  static void Start(boost::asio::ip::tcp::socket socket, Origin* origin, const Path& prefix,
                    const SseWatchOptions& options, std::shared_ptr<void> slot);
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_SSE_WATCH_H_
