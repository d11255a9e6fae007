#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_PAIR_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_PAIR_H_

// Two qmux::Connections, a client and a server, wired to each other in
// memory: Pump moves what each has to send into the other until both are
// quiet. No sockets, no clock, no threads.
//
// The StreamEvents passed in are borrowed and must outlive the pair. Not
// thread-safe.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "origin_bridge/qmux/connection.h"

namespace moq_stats::qmux::test {

class ConnectionPair {
 public:
  // Options for one side with the library defaults.
  static ConnectionOptions Options(Perspective perspective, RecordMode mode = RecordMode::kWebSocket) {
    ConnectionOptions options;
    options.perspective = perspective;
    options.mode = mode;
    return options;
  }

  ConnectionPair(ConnectionOptions client_options, StreamEvents* client_events, ConnectionOptions server_options,
                 StreamEvents* server_events)
      : client_(std::move(client_options), client_events), server_(std::move(server_options), server_events) {}

  // Both sides with default options in `mode`.
  ConnectionPair(StreamEvents* client_events, StreamEvents* server_events, RecordMode mode = RecordMode::kWebSocket)
      : ConnectionPair(Options(Perspective::kClient, mode), client_events, Options(Perspective::kServer, mode),
                       server_events) {}

  Connection& client() { return client_; }
  Connection& server() { return server_; }

  // Hands everything `from` has to send to `to`, one chunk per
  // OnBytesReceived call. Returns the number of chunks.
  static size_t Deliver(Connection& from, Connection& to) {
    std::vector<std::string> chunks = from.TakeOutgoing();
    for (const std::string& chunk : chunks) to.OnBytesReceived(chunk);
    return chunks.size();
  }

  // Moves bytes both ways until neither side has anything to send, at most
  // `max_rounds` rounds. Returns true when the pair went quiet.
  bool Pump(int max_rounds = 10000) {
    for (int round = 0; round < max_rounds; ++round) {
      const size_t moved = Deliver(client_, server_) + Deliver(server_, client_);
      if (moved == 0 && !client_.has_outgoing() && !server_.has_outgoing()) return true;
    }
    return false;
  }

 private:
  Connection client_;
  Connection server_;
};

}  // namespace moq_stats::qmux::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_CONNECTION_PAIR_H_
