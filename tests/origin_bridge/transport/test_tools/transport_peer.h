#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_TRANSPORT_PEER_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_TRANSPORT_PEER_H_

// One end of a connection in a test: owns a Transport and records what its
// handlers saw.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge::test {

struct TransportPeer {
  // Starts `transport`, recording into this peer; the peer must outlive it.
  void Start(std::unique_ptr<Transport> t) {
    transport = std::move(t);
    transport->Start({[this](std::string_view bytes) {
                        messages.emplace_back(bytes);
                        bytes_received += bytes.size();
                        received.append(bytes.data(), bytes.size());
                        if (on_bytes) on_bytes(bytes);
                      },
                      [this](absl::Status s) {
                        ++closed;
                        status = std::move(s);
                      },
                      [this] {
                        ++drained;
                        drained_with_queue = transport->queued_bytes();
                      }});
  }

  std::unique_ptr<Transport> transport;
  std::vector<std::string> messages;  // one per on_bytes call
  std::string received;               // every byte, concatenated
  size_t bytes_received = 0;
  int closed = 0;
  absl::Status status;
  int drained = 0;                  // on_drained calls
  uint64_t drained_with_queue = 0;  // queued_bytes() seen by the last one
  // Extra behaviour on each on_bytes call, run after recording.
  std::function<void(std::string_view)> on_bytes;
};

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_TRANSPORT_PEER_H_
