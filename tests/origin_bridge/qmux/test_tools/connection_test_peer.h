#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_TEST_PEER_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_TEST_PEER_H_

// Reads a qmux::Connection's internal sizes for tests (its friend).

#include <cstddef>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/internal/connection_state.h"

namespace moq_stats::qmux {

class ConnectionTestPeer {
 public:
  // Live streams (either side not yet done).
  static size_t stream_count(const Connection& connection) { return connection.state_->streams.size(); }
  // Stopped stream ids remembered after retirement.
  static size_t remembered_stopped(const Connection& connection) { return connection.state_->stopped_retired.size(); }
};

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_TEST_PEER_H_
