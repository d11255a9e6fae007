#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_BRIDGE_FIXTURE_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_BRIDGE_FIXTURE_H_

// What the dial-mode and serve-mode tests share: an Origin, the io_context
// that runs the test's side of the connections (the relay or the MoQ
// client), and an OriginBridge over the origin, started with the test's
// options and stopped while this thread keeps running the test's side of
// the close handshakes.
//
// The test's thread runs `io_`; the bridge runs on its own thread. The
// origin outlives the bridge (members are destroyed in reverse order).

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "origin_bridge/bridge/origin_bridge.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats::bridge::test {

// Stops `bridge` on another thread while this one runs `io`, so that the
// sessions' close handshakes with the test's side can complete. Fails the
// test when the stop does not finish within RunUntil's bound.
inline void StopWhileRunning(boost::asio::io_context& io, OriginBridge& bridge) {
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    bridge.Stop();
    stopped = true;
  });
  EXPECT_TRUE(RunUntil(io, [&] { return stopped.load(); }));
  stopper.join();
}

class BridgeFixture : public ::testing::Test {
 protected:
  // Starts `bridge_` over `origin_` with `options`.
  void StartBridgeWith(BridgeOptions options) {
    absl::StatusOr<std::unique_ptr<OriginBridge>> bridge = OriginBridge::Start(&origin_, std::move(options));
    ASSERT_TRUE(bridge.ok()) << bridge.status();
    bridge_ = *std::move(bridge);
  }

  void StopBridge() { StopWhileRunning(io_, *bridge_); }

  // Runs `io_` until the bridge's status satisfies `pred`; false when it
  // does not within RunUntil's bound.
  bool WaitStatus(const std::function<bool(const BridgeStatus&)>& pred) {
    return RunUntil(io_, [&] { return pred(bridge_->status()); });
  }

  Origin origin_;
  boost::asio::io_context io_;
  std::unique_ptr<OriginBridge> bridge_;
};

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_BRIDGE_FIXTURE_H_
