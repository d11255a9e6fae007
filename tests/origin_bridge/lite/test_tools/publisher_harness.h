#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_PUBLISHER_HARNESS_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_PUBLISHER_HARNESS_H_

// Helpers for the PublisherSession tests: hex wire images, message
// encoding, and a harness holding an Origin, a FakeStreamMux playing the
// peer, and the session under test (started), with a simulated clock.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/publisher_session.h"
#include "origin_bridge/lite/wire.h"
#include "tests/origin_bridge/lite/test_tools/fake_stream_mux.h"

namespace moq_stats::lite::test {

// "0a 0b" -> bytes; spaces ignored; "{...}" and "\"...\"" spans are taken
// literally (without the quotes), so JSON and names read naturally.
std::string Unhex(std::string_view text);
// Bytes -> "0a 0b".
std::string Hex(std::string_view bytes);

template <typename M>
std::string Encode(const M& message, lite::Version version) {
  std::string out;
  absl::Status status = message.Encode(version, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// [type varint] + message bytes: the start of a control stream.
std::string ControlStream(lite::ControlStreamType type, std::string_view message);

struct PublisherHarness {
  static constexpr uint64_t kOriginId = 0x0e832a2b1799c8;

  explicit PublisherHarness(lite::Version version, lite::PublisherOptions options = DefaultOptions());
  ~PublisherHarness() { mux.set_events(nullptr); }

  static lite::PublisherOptions DefaultOptions();

  // Peer opens a bidirectional stream and sends `bytes` on it.
  uint64_t Open(std::string_view bytes, bool fin = false) { return mux.PeerOpenAndSend(true, bytes, fin); }
  // Publishes `path` with `tracks`; kept alive by the harness.
  BroadcastProducer* Publish(std::string_view path, const std::vector<std::string>& tracks);
  void Unpublish(BroadcastProducer* producer);
  // Our unidirectional streams other than SETUP, in open order.
  std::vector<uint64_t> GroupStreams() const;
  std::string Written(uint64_t id) const { return Hex(mux.written(id)); }

  SimulatedClock clock;
  Origin origin;
  FakeStreamMux mux{/*is_server=*/false};
  std::atomic<int> wakes{0};
  std::unique_ptr<lite::PublisherSession> session;
  std::vector<std::unique_ptr<BroadcastProducer>> producers;
};

}  // namespace moq_stats::lite::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_PUBLISHER_HARNESS_H_
