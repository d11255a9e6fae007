#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_IO_PUMP_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_IO_PUMP_H_

// Runs an io_context on the test's thread until a condition holds, with a
// bounded deadline, so loopback tests never hang and never sleep.

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

namespace moq_stats::bridge::test {

// Runs handlers until `done()` is true; false if `limit` passed first.
inline bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Runs every handler that is ready now (and those they make ready), without
// waiting: lets a test check that nothing more happens.
inline void RunReady(boost::asio::io_context& io) {
  for (int i = 0; i < 1000; ++i) {
    if (io.stopped()) io.restart();
    if (io.poll() == 0) return;
  }
}

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_IO_PUMP_H_
