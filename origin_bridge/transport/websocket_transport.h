#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_WEBSOCKET_TRANSPORT_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_WEBSOCKET_TRANSPORT_H_

// The WebSocket Transport: one Boost.Beast stream whose opening handshake is
// done (by AsyncDial or WebSocketListener), carrying one binary message per
// chunk. Writes go out one at a time, in order. A text message from the peer,
// or a message above `max_message_size`, ends the connection.
//
// Runs on the stream's io_context thread only: every method must be called
// there and every handler runs there. The object may be destroyed at any time,
// including from inside its own handlers: no handler runs after that, a close
// under way (Close) is finished in the background within `close_timeout_ms`,
// otherwise the socket is dropped at once.
//
// Only this header's users that make the stream (dial, listener) need Beast;
// it is forward-declared here.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>

#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

// Without permessage-deflate: QMux records are small and we never offer it.
using WebSocketStream = boost::beast::websocket::stream<boost::asio::ip::tcp::socket, false>;

struct WebSocketOptions {
  // Largest message accepted from the peer; a bigger one closes the
  // connection with code 1009 (too big) and RESOURCE_EXHAUSTED.
  uint64_t max_message_size = 1 << 20;
  // Nothing received for half of this sends a ping; nothing for all of it
  // ends the connection with DEADLINE_EXCEEDED. 0 disables.
  uint32_t idle_timeout_ms = 30000;
  // Close(): how long flushing the queue plus the close handshake may take
  // before the socket is dropped.
  uint32_t close_timeout_ms = 5000;
};

// Wraps `stream`, whose opening handshake has completed. `peer` names the
// other end in errors. `connection_slot` is released when the connection
// ends (the listener counts open connections with it); may be null.
std::unique_ptr<Transport> MakeWebSocketTransport(WebSocketStream&& stream, Negotiated negotiated, std::string peer,
                                                  const WebSocketOptions& options = {},
                                                  std::shared_ptr<void> connection_slot = nullptr);

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_WEBSOCKET_TRANSPORT_H_
