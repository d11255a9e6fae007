#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_LOOPBACK_PAIR_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_LOOPBACK_PAIR_H_

// What the TCP and WebSocket transport tests share: connecting a client
// transport from AsyncDial to a server transport the test accepts, over
// loopback, and the checks that hold for every Transport whatever it runs
// on. Runs on the test's thread, which runs the io_context; the peers are
// borrowed and must outlive the transports they hold.

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"
#include "tests/origin_bridge/transport/test_tools/transport_peer.h"

namespace moq_stats::bridge::test {

// Dials `target`, starts `client` on the transport it yields and runs `io`
// until `server` has been started too (by the test's acceptor or listener).
// Fails the test when the dial fails or either end does not come up.
inline void DialLoopback(boost::asio::io_context& io, const DialTarget& target, TransportPeer& client,
                         TransportPeer& server) {
  bool dialed = false;
  AsyncDial(io, target, 5000, [&](absl::StatusOr<std::unique_ptr<Transport>> result) {
    dialed = true;
    ASSERT_TRUE(result.ok()) << result.status();
    client.Start(std::move(*result));
  });
  ASSERT_TRUE(RunUntil(io, [&] { return dialed && server.transport != nullptr; }));
  ASSERT_NE(client.transport, nullptr);
}

// on_drained runs once each time what was queued has all been written, with
// nothing left queued, and never on an end that sent nothing.
inline void ExpectDrainedOnceTheQueueIsWritten(boost::asio::io_context& io, TransportPeer& client,
                                               const TransportPeer& server) {
  client.transport->Send({"a", std::string(100 * 1024, 'b'), "c"});
  EXPECT_EQ(client.drained, 0);
  ASSERT_TRUE(RunUntil(io, [&] { return client.drained > 0; }));
  EXPECT_EQ(client.drained_with_queue, 0u);
  const int after_first = client.drained;
  client.transport->Send({"d"});
  ASSERT_TRUE(RunUntil(io, [&] { return client.drained > after_first; }));
  EXPECT_EQ(client.drained_with_queue, 0u);
  EXPECT_EQ(server.drained, 0);  // it sent nothing
}

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_LOOPBACK_PAIR_H_
