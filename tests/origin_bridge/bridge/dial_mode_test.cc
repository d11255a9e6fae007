// Dial mode end to end over loopback: the test plays the relay with a
// WebSocketListener and the real QMux connection and moq-lite subscriber;
// an OriginBridge dials it, is dropped, and reconnects. The backoff is set
// to zero delay, so no test waits for time to pass.

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "origin_bridge/bridge/origin_bridge.h"
#include "origin_bridge/transport/tcp_transport.h"
#include "tests/origin_bridge/bridge/test_tools/bridge_fixture.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats::bridge {
namespace {

using test::MoqPeer;
using test::RunUntil;
using test::StopWhileRunning;

class DialModeTest : public test::BridgeFixture {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<WebSocketListener>> listener = WebSocketListener::Bind(
        io_, "127.0.0.1", 0,
        [this](std::unique_ptr<Transport> transport) { accepted_.push_back(std::move(transport)); });
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
  }

  void TearDown() override {
    if (bridge_) StopBridge();
  }

  std::string Url() const { return absl::StrCat("ws://127.0.0.1:", listener_->port(), "/relay/x?jwt=tok.en"); }

  void StartBridge() {
    BridgeOptions options;
    options.origin_url = Url();
    options.backoff.initial_delay = absl::ZeroDuration();  // redial at once
    options.backoff_seed = 1;
    options.session.publisher.origin_id = 9;
    StartBridgeWith(options);
  }

  // Waits for the bridge's next connection and plays the relay on it.
  std::unique_ptr<MoqPeer> Accept() {
    size_t before = taken_;
    if (!RunUntil(io_, [&] { return accepted_.size() > before; })) return nullptr;
    auto peer = std::make_unique<MoqPeer>(std::move(accepted_[taken_++]), qmux::Perspective::kServer);
    peer->Start();
    EXPECT_TRUE(RunUntil(io_, [&] { return peer->connection().peer_parameters().has_value(); }));
    return peer;
  }

  std::unique_ptr<WebSocketListener> listener_;
  std::vector<std::unique_ptr<Transport>> accepted_;
  size_t taken_ = 0;
};

TEST_F(DialModeTest, PublishesIntoTheRelay) {
  auto producer = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  TrackProducer* track = (*producer)->track("data");
  track->WriteFrame("f0");
  StartBridge();

  std::unique_ptr<MoqPeer> relay = Accept();
  ASSERT_NE(relay, nullptr);
  lite::test::LiteSubscriber& sub = relay->subscriber();
  const uint64_t announces = *sub.RequestAnnounces("");
  const uint64_t id = *sub.Subscribe("stats/a", "data");
  relay->Flush();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.announces(announces)->active.count("stats/a") == 1; })) << sub.error();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.Received(id).size() == 1; }));
  track->WriteFrame("f1");
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.Received(id).size() == 2; }));
  EXPECT_EQ(sub.Received(id), (std::vector<std::string>{"0:f0", "1:f1"}));
  ASSERT_TRUE(sub.peer_setup().has_value());
  EXPECT_EQ(sub.peer_setup()->VarintValue(lite::kSetupParameterOrigin), 9u);

  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.dial.connected && s.totals.groups_sent == 2; }));
  BridgeStatus status = bridge_->status();
  EXPECT_TRUE(status.dial.enabled);
  EXPECT_EQ(status.dial.url, absl::StrCat("ws://127.0.0.1:", listener_->port(), "/relay/x?jwt=..."));
  EXPECT_EQ(status.dial.version, "moq-lite-05");
  EXPECT_EQ(status.dial.subprotocol, "qmux-01.moq-lite-05");
  EXPECT_NE(status.dial.connected_since, absl::InfinitePast());
  EXPECT_EQ(status.dial.reconnects, 0u);
  EXPECT_FALSE(status.serve.enabled);
  EXPECT_EQ(status.totals.announced_broadcasts, 1u);
  EXPECT_EQ(status.totals.subscriptions_active, 1u);

  // Stop: the relay sees an application close with code 0.
  StopBridge();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.closed(); }));
  EXPECT_TRUE(sub.close_info()->application);
  EXPECT_EQ(sub.close_info()->code, 0u);
  EXPECT_EQ(accepted_.size(), 1u);  // no redial after Stop
}

TEST_F(DialModeTest, ReconnectsAfterTheRelayDropsAndAnnouncesWhatIsLiveNow) {
  auto a = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(a.ok());
  StartBridge();
  std::unique_ptr<MoqPeer> relay = Accept();
  ASSERT_NE(relay, nullptr);
  const uint64_t first = *relay->subscriber().RequestAnnounces("");
  relay->Flush();
  ASSERT_TRUE(RunUntil(io_, [&] { return relay->subscriber().announces(first)->active.size() == 1; }));

  // The relay goes away without a QMux close; meanwhile stats/a ends and
  // stats/b starts.
  relay->CloseTransport();
  ASSERT_TRUE(RunUntil(io_, [&] { return relay->transport_closed(); }));
  a->reset();
  auto b = origin_.Publish(Path("stats/b"), {"data"});
  ASSERT_TRUE(b.ok());

  std::unique_ptr<MoqPeer> again = Accept();
  ASSERT_NE(again, nullptr);
  const uint64_t second = *again->subscriber().RequestAnnounces("");
  again->Flush();
  // Whenever the new session started, it ends up announcing exactly what
  // is live.
  ASSERT_TRUE(
      RunUntil(io_, [&] { return again->subscriber().announces(second)->active == std::set<std::string>{"stats/b"}; }));
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.dial.connected; }));
  BridgeStatus status = bridge_->status();
  EXPECT_EQ(status.dial.reconnects, 1u);
  EXPECT_NE(status.dial.last_error.find("ended by the peer"), std::string::npos) << status.dial.last_error;
  EXPECT_EQ(status.dial.last_error.find("tok.en"), std::string::npos);
}

TEST_F(DialModeTest, RedialsWhileTheRelayIsDown) {
  // Nothing listens on the port once the listener stops.
  uint16_t port = listener_->port();
  listener_->Stop();
  listener_.reset();
  BridgeOptions options;
  options.origin_url = absl::StrCat("tcp://127.0.0.1:", port);
  options.backoff.initial_delay = absl::ZeroDuration();
  options.backoff_seed = 1;
  ASSERT_NO_FATAL_FAILURE(StartBridgeWith(options));
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.dial.reconnects >= 3; }));
  BridgeStatus status = bridge_->status();
  EXPECT_FALSE(status.dial.connected);
  EXPECT_NE(status.dial.last_error.find("cannot connect"), std::string::npos) << status.dial.last_error;
}

// Plain QMux over TCP: the version is settled by the application_protocols
// transport parameter (the server's choice among the client's offer).
class TcpDialTest : public ::testing::TestWithParam<lite::Version> {};

TEST_P(TcpDialTest, NegotiatesTheRelaysVersionAndPublishes) {
  Origin origin;
  auto producer = origin.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  (*producer)->track("data")->WriteFrame("f0");

  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::unique_ptr<Transport> accepted;
  acceptor.async_accept([&](const boost::system::error_code& error, boost::asio::ip::tcp::socket socket) {
    ASSERT_FALSE(error) << error.message();
    accepted = MakeTcpTransport(std::move(socket), "bridge");
  });
  BridgeOptions options;
  options.origin_url = absl::StrCat("tcp://127.0.0.1:", acceptor.local_endpoint().port(), "/room?jwt=t0k");
  auto bridge = OriginBridge::Start(&origin, options);
  ASSERT_TRUE(bridge.ok()) << bridge.status();
  ASSERT_TRUE(RunUntil(io, [&] { return accepted != nullptr; }));

  MoqPeer relay(std::move(accepted), qmux::Perspective::kServer, GetParam());
  relay.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return relay.connection().peer_parameters().has_value(); }));
  EXPECT_EQ(relay.connection().peer_parameters()->application_protocols,
            (std::vector<std::string>{"moq-lite-05", "moq-lite-04", "moq-lite-03"}));
  lite::test::LiteSubscriber& sub = relay.subscriber();
  const uint64_t announces = *sub.RequestAnnounces("");
  const uint64_t id = *sub.Subscribe("stats/a", "data");
  relay.Flush();
  ASSERT_TRUE(RunUntil(io, [&] { return sub.Received(id).size() == 1; })) << sub.error();
  ASSERT_TRUE(RunUntil(io, [&] { return sub.announces(announces)->active.count("stats/a") == 1; }));
  EXPECT_EQ(sub.Received(id), (std::vector<std::string>{"0:f0"}));
  // TCP carries no request URI: lite-05 sends the target as SETUP's Path;
  // lite-03/04 have no SETUP.
  if (GetParam() == lite::Version::kLite05) {
    ASSERT_TRUE(sub.peer_setup().has_value());
    const auto& params = sub.peer_setup()->parameters;
    auto path = std::find_if(params.begin(), params.end(),
                             [](const lite::SetupParameter& p) { return p.id == lite::kSetupParameterPath; });
    ASSERT_NE(path, params.end());
    EXPECT_EQ(path->value, "/room?jwt=t0k");
  } else {
    EXPECT_FALSE(sub.peer_setup().has_value());
  }
  ASSERT_TRUE(RunUntil(io, [&] { return (*bridge)->status().dial.connected; }));
  EXPECT_EQ((*bridge)->status().dial.version, std::string(lite::VersionAlpn(GetParam())));
  EXPECT_EQ((*bridge)->status().dial.subprotocol, "");

  StopWhileRunning(io, **bridge);
  ASSERT_TRUE(RunUntil(io, [&] { return sub.closed(); }));
  EXPECT_EQ(sub.close_info()->code, 0u);
}

INSTANTIATE_TEST_SUITE_P(Versions, TcpDialTest,
                         ::testing::Values(lite::Version::kLite05, lite::Version::kLite04, lite::Version::kLite03));

TEST(OriginBridgeStartTest, BadUrlAndTakenPort) {
  Origin origin;
  BridgeOptions bad_url;
  bad_url.origin_url = "wss://relay/x";
  EXPECT_EQ(OriginBridge::Start(&origin, bad_url).status().code(), absl::StatusCode::kInvalidArgument);

  boost::asio::io_context io;
  auto holder = WebSocketListener::Bind(io, "127.0.0.1", 0, [](std::unique_ptr<Transport>) {});
  ASSERT_TRUE(holder.ok());
  BridgeOptions taken;
  taken.moq_listen = ListenAddress{"127.0.0.1", (*holder)->port()};
  absl::StatusOr<std::unique_ptr<OriginBridge>> fatal = OriginBridge::Start(&origin, taken);
  ASSERT_FALSE(fatal.ok());
  EXPECT_NE(fatal.status().message().find(absl::StrCat("127.0.0.1:", (*holder)->port())), absl::string_view::npos)
      << fatal.status();

  taken.listen_failure_is_fatal = false;
  absl::StatusOr<std::unique_ptr<OriginBridge>> lenient = OriginBridge::Start(&origin, taken);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  BridgeStatus status = (*lenient)->status();
  EXPECT_FALSE(status.serve.enabled);
  EXPECT_FALSE(status.serve.last_error.empty());
  EXPECT_EQ((*lenient)->serve_port(), 0);
}

}  // namespace
}  // namespace moq_stats::bridge
