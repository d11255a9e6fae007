#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TCP_TRANSPORT_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TCP_TRANSPORT_H_

// The plain TCP Transport: a connected socket carrying QMux's size-prefixed
// records as a byte stream. It only moves bytes: chunks are written whole and
// in order, reads are handed up as they arrive (any slicing), and the
// version comes from QMux's application_protocols transport parameter, so
// negotiated() is nullopt.
//
// Runs on the socket's io_context thread only: every method must be called
// there and every handler runs there. The object may be destroyed at any time,
// including from inside its own handlers: no handler runs after that, a close
// under way (Close) is finished in the background within `close_timeout_ms`,
// otherwise the socket is dropped at once.
//
// Close() writes what is queued, shuts down our sending side and waits for
// the peer's end of stream (what arrives meanwhile is dropped) before
// closing, so the peer reads everything we sent.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

struct TcpOptions {
  // Bytes asked for per read.
  size_t read_size = 64 * 1024;
  // Close(): how long flushing the queue plus waiting for the peer's end of
  // stream may take before the socket is dropped.
  uint32_t close_timeout_ms = 5000;
};

// Wraps the connected `socket` (TCP_NODELAY is set). `peer` names the other
// end in errors.
std::unique_ptr<Transport> MakeTcpTransport(boost::asio::ip::tcp::socket socket, std::string peer,
                                            const TcpOptions& options = {});

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_TCP_TRANSPORT_H_
