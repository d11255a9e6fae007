// Serve mode end to end over loopback: an OriginBridge serving on
// 127.0.0.1:0 and a MoQ client built from the real pieces (AsyncDial, QMux
// connection, moq-lite subscriber).

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "origin_bridge/bridge/origin_bridge.h"
#include "tests/origin_bridge/bridge/test_tools/bridge_fixture.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats::bridge {
namespace {

using test::MoqPeer;
using test::RunUntil;

class ServeModeTest : public test::BridgeFixture {
 protected:
  void StartBridge(size_t max_sessions = 256, uint64_t max_unsent_bytes = 64 << 20,
                   absl::Duration setup_timeout = absl::Seconds(10)) {
    BridgeOptions options;
    options.moq_listen = ListenAddress{"127.0.0.1", 0};
    options.max_serve_sessions = max_sessions;
    options.session.max_unsent_bytes = max_unsent_bytes;
    options.session.setup_timeout = setup_timeout;
    options.session.publisher.origin_id = 42;
    ASSERT_NO_FATAL_FAILURE(StartBridgeWith(options));
    ASSERT_NE(bridge_->serve_port(), 0);
  }

  std::unique_ptr<MoqPeer> Connect(bool wait_parameters = true,
                                   const std::function<void(qmux::TransportParameters&)>& adjust = nullptr) {
    DialTarget target;
    target.host = "127.0.0.1";
    target.port = bridge_->serve_port();
    std::unique_ptr<Transport> transport;
    bool done = false;
    AsyncDial(io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<Transport>> t) {
      done = true;
      EXPECT_TRUE(t.ok()) << t.status();
      if (t.ok()) transport = *std::move(t);
    });
    EXPECT_TRUE(RunUntil(io_, [&] { return done; }));
    if (!transport) return nullptr;
    auto peer =
        std::make_unique<MoqPeer>(std::move(transport), qmux::Perspective::kClient, lite::Version::kLite05, adjust);
    peer->Start();
    // Streams can be opened once the bridge's stream credit is known.
    if (wait_parameters) {
      EXPECT_TRUE(RunUntil(io_, [&] { return peer->connection().peer_parameters().has_value(); }));
    }
    return peer;
  }
};

TEST_F(ServeModeTest, ClientHearsAnnouncementsAndReceivesGroups) {
  auto producer = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  TrackProducer* track = (*producer)->track("data");
  track->WriteFrame("f0");
  StartBridge();

  std::unique_ptr<MoqPeer> peer = Connect();
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->version(), lite::Version::kLite05);
  lite::test::LiteSubscriber& sub = peer->subscriber();
  const uint64_t announces = *sub.RequestAnnounces("");
  const uint64_t id = *sub.Subscribe("stats/a", "data");
  peer->Flush();

  ASSERT_TRUE(RunUntil(io_, [&] { return sub.Received(id).size() == 1; })) << sub.error();
  EXPECT_EQ(sub.Received(id), (std::vector<std::string>{"0:f0"}));
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.announces(announces)->active.count("stats/a") == 1; }));
  ASSERT_TRUE(sub.peer_setup().has_value());
  EXPECT_EQ(sub.peer_setup()->VarintValue(lite::kSetupParameterOrigin), 42u);

  // A frame written on this thread wakes the bridge's thread.
  track->WriteFrame("f1");
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.Received(id).size() == 2; }));
  EXPECT_EQ(sub.Received(id), (std::vector<std::string>{"0:f0", "1:f1"}));

  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.totals.groups_sent == 2; }));
  BridgeStatus status = bridge_->status();
  EXPECT_FALSE(status.dial.enabled);
  EXPECT_TRUE(status.serve.enabled);
  EXPECT_EQ(status.serve.listen, absl::StrCat("127.0.0.1:", bridge_->serve_port()));
  EXPECT_EQ(status.serve.sessions, 1u);
  EXPECT_EQ(status.serve.sessions_total, 1u);
  EXPECT_EQ(status.totals.announced_broadcasts, 1u);
  EXPECT_EQ(status.totals.subscriptions_active, 1u);
  EXPECT_EQ(status.totals.subscriptions_served, 1u);
  EXPECT_EQ(status.totals.group_bytes_sent, 4u);
  EXPECT_GT(status.totals.wire_bytes_sent, 0u);
  EXPECT_GT(status.totals.wire_bytes_received, 0u);

  // The broadcast goes: unannounced, subscription ended.
  producer->reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.announces(announces)->active.empty(); }));
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.subscription(id)->finished; }));
  ASSERT_TRUE(WaitStatus(
      [](const BridgeStatus& s) { return s.totals.announced_broadcasts == 0 && s.totals.subscriptions_active == 0; }));
  EXPECT_FALSE(sub.closed());
}

// A client that opens an announce stream but grants no credit on it never
// reads the announcements; once more than max_unsent_bytes wait, the
// session is closed with Lagged rather than growing without bound.
TEST_F(ServeModeTest, PeerThatNeverGrantsCreditIsClosedAsLagged) {
  StartBridge(/*max_sessions=*/256, /*max_unsent_bytes=*/4096);
  std::unique_ptr<MoqPeer> peer =
      Connect(true, [](qmux::TransportParameters& p) { p.initial_max_stream_data_bidi_local = 0; });
  ASSERT_NE(peer, nullptr);
  lite::test::LiteSubscriber& sub = peer->subscriber();
  ASSERT_TRUE(sub.RequestAnnounces("").ok());
  peer->Flush();
  std::vector<std::unique_ptr<BroadcastProducer>> producers;
  // About 18 KB of ANNOUNCE messages, none of which may be sent.
  for (int i = 0; i < 400; ++i) {
    auto producer = origin_.Publish(Path(absl::StrCat("stats/prefix/level-with-a-long-name/", i)), {"t"});
    ASSERT_TRUE(producer.ok());
    producers.push_back(*std::move(producer));
  }
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.closed(); })) << "the session stayed open";
  ASSERT_TRUE(sub.close_info().has_value());
  EXPECT_TRUE(sub.close_info()->application);
  EXPECT_EQ(sub.close_info()->code, static_cast<uint64_t>(lite::ErrorCode::kLagged));
  EXPECT_EQ(sub.close_info()->reason, "peer is not reading");
  EXPECT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 0; }));
}

// A client that upgrades the WebSocket and never speaks QMux does not keep
// its session slot: without transport parameters in time it is closed.
TEST_F(ServeModeTest, SilentClientIsClosedAfterTheSetupTimeout) {
  StartBridge(/*max_sessions=*/256, /*max_unsent_bytes=*/64 << 20, /*setup_timeout=*/absl::Milliseconds(50));
  DialTarget target;
  target.host = "127.0.0.1";
  target.port = bridge_->serve_port();
  std::unique_ptr<Transport> transport;
  AsyncDial(io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<Transport>> t) {
    ASSERT_TRUE(t.ok()) << t.status();
    transport = *std::move(t);
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return transport != nullptr; }));
  std::string received;
  bool closed = false;
  Transport::Handlers handlers;
  handlers.on_bytes = [&](std::string_view bytes) { received.append(bytes); };
  handlers.on_closed = [&](absl::Status) { closed = true; };
  transport->Start(std::move(handlers));
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 1; }));
  ASSERT_TRUE(RunUntil(io_, [&] { return closed; })) << "the silent client was never closed";
  EXPECT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 0; }));
  // The bridge sent its transport parameters, then an APPLICATION_CLOSE
  // with moq-lite's Timeout (3): 0x1d, 0x03, reason.
  EXPECT_NE(received.find(std::string("\x1d\x03", 2)), std::string::npos);
}

TEST_F(ServeModeTest, StopClosesSessionsWithApplicationCodeZero) {
  StartBridge();
  std::unique_ptr<MoqPeer> peer = Connect();
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 1; }));

  StopBridge();
  lite::test::LiteSubscriber& sub = peer->subscriber();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.closed(); }));
  EXPECT_TRUE(sub.close_info()->by_peer);
  EXPECT_TRUE(sub.close_info()->application);
  EXPECT_EQ(sub.close_info()->code, 0u);
  BridgeStatus status = bridge_->status();
  EXPECT_EQ(status.serve.sessions, 0u);
  EXPECT_EQ(status.serve.sessions_total, 1u);
}

TEST_F(ServeModeTest, SessionsBeyondTheLimitAreRefused) {
  StartBridge(/*max_sessions=*/1);
  std::unique_ptr<MoqPeer> first = Connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 1; }));
  std::unique_ptr<MoqPeer> second = Connect(/*wait_parameters=*/false);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(RunUntil(io_, [&] { return second->transport_closed(); }));
  EXPECT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions_refused == 1; }));
  EXPECT_FALSE(first->transport_closed());
  EXPECT_EQ(bridge_->status().serve.sessions, 1u);
}

TEST_F(ServeModeTest, ClientGoingAwayEndsItsSession) {
  auto producer = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  (*producer)->track("data")->WriteFrame("x");
  StartBridge();
  std::unique_ptr<MoqPeer> peer = Connect();
  ASSERT_NE(peer, nullptr);
  const uint64_t id = *peer->subscriber().Subscribe("stats/a", "data");
  peer->Flush();
  ASSERT_TRUE(RunUntil(io_, [&] { return peer->subscriber().Received(id).size() == 1; }));
  peer->connection().Close(0, "bye");
  peer->Flush();
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 0; }));
  // Totals survive the session; gauges do not.
  BridgeStatus status = bridge_->status();
  EXPECT_EQ(status.totals.groups_sent, 1u);
  EXPECT_EQ(status.totals.subscriptions_served, 1u);
  EXPECT_EQ(status.totals.subscriptions_active, 0u);
}

}  // namespace
}  // namespace moq_stats::bridge
