// WebSocketListener against plain Beast clients: which subprotocol it agrees
// for a given offer, refusals, and the limits on handshakes and connections.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"
#include "tests/origin_bridge/transport/test_tools/raw_peers.h"
#include "tests/origin_bridge/transport/test_tools/transport_peer.h"

namespace moq_stats::bridge {
namespace {

namespace websocket = boost::beast::websocket;
using boost::asio::ip::tcp;
using test::RawWebSocketClient;
using test::RunReady;
using test::RunUntil;
using test::TransportPeer;
using ::testing::HasSubstr;

class WebSocketListenerTest : public ::testing::Test {
 protected:
  void Listen(const WebSocketListener::Options& options = {}) {
    auto bound = WebSocketListener::Bind(
        io_, "127.0.0.1", 0,
        [this](std::unique_ptr<Transport> t) {
          sessions_.push_back(std::make_unique<TransportPeer>());
          sessions_.back()->Start(std::move(t));
        },
        options);
    ASSERT_TRUE(bound.ok()) << bound.status();
    listener_ = std::move(*bound);
  }

  // Runs a raw client offering `headers` (one Sec-WebSocket-Protocol line
  // each) to completion. Clients live until the test ends.
  RawWebSocketClient& Offer(std::vector<std::string> headers) {
    clients_.push_back(std::make_unique<RawWebSocketClient>(io_, listener_->port(), std::move(headers)));
    RawWebSocketClient& client = *clients_.back();
    client.Start();
    EXPECT_TRUE(RunUntil(io_, [&] { return client.done(); }));
    return client;
  }

  // Offers `headers` and returns the subprotocol the listener agreed, or
  // "refused" when the upgrade was declined.
  std::string Agreed(std::vector<std::string> headers) {
    size_t sessions_before = sessions_.size();
    RawWebSocketClient& client = Offer(std::move(headers));
    if (client.error() == websocket::error::upgrade_declined) {
      EXPECT_EQ(client.response().result_int(), 400u);
      EXPECT_EQ(client.response().body(), "no supported protocol");
      return "refused";
    }
    EXPECT_FALSE(client.error()) << client.error().message();
    EXPECT_TRUE(RunUntil(io_, [&] { return sessions_.size() == sessions_before + 1; }));
    if (sessions_.size() != sessions_before + 1) return "no session";
    auto negotiated = sessions_.back()->transport->negotiated();
    EXPECT_TRUE(negotiated.has_value());
    EXPECT_EQ(negotiated->subprotocol, client.chosen());
    return client.chosen();
  }

  boost::asio::io_context io_;
  std::unique_ptr<WebSocketListener> listener_;
  std::vector<std::unique_ptr<RawWebSocketClient>> clients_;
  std::vector<std::unique_ptr<TransportPeer>> sessions_;
};

TEST_F(WebSocketListenerTest, AgreesOurPreferenceAmongWhatTheClientOffered) {
  Listen();
  EXPECT_NE(listener_->port(), 0);
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
  EXPECT_EQ(Agreed({"qmux-00.moq-lite-03, qmux-01.moq-lite-03, qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-03, qmux-00.moq-lite-04"}), "qmux-00.moq-lite-04");
  // What moq-native's WebSocket client sends.
  EXPECT_EQ(Agreed({"qmux-02.moq-lite-05, qmux-01.moq-lite-05, qmux-00.moq-lite-05, "
                    "qmux-02.moq-lite-04, qmux-01.moq-lite-04, qmux-00.moq-lite-04, qmux-02, "
                    "qmux-01, qmux-00, webtransport"}),
            "qmux-01.moq-lite-05");
  // Several header lines count as one list.
  EXPECT_EQ(Agreed({"qmux-02.moq-lite-05", "qmux-00.moq-lite-05"}), "qmux-00.moq-lite-05");
}

TEST_F(WebSocketListenerTest, AcceptsAQmux00OnlyClient) {
  Listen();
  EXPECT_EQ(Agreed({"qmux-00.moq-lite-04"}), "qmux-00.moq-lite-04");
  ASSERT_EQ(sessions_.size(), 1u);
  auto negotiated = sessions_[0]->transport->negotiated();
  EXPECT_EQ(negotiated->version, lite::Version::kLite04);
  EXPECT_FALSE(negotiated->qmux_records);
  EXPECT_EQ(sessions_[0]->transport->mode(), qmux::RecordMode::kWebSocket);
}

TEST_F(WebSocketListenerTest, RefusesWithoutACommonSubprotocolAndKeepsListening) {
  Listen();
  EXPECT_EQ(Agreed({"qmux-01, qmux-00, webtransport"}), "refused");
  EXPECT_EQ(Agreed({"qmux-02.moq-lite-05, qmux-01.moqt-17"}), "refused");
  EXPECT_EQ(Agreed({}), "refused");
  EXPECT_TRUE(sessions_.empty());
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-04"}), "qmux-01.moq-lite-04");
}

TEST_F(WebSocketListenerTest, RefusedClientLeavesTheListenerServing) {
  // AsyncDial only offers our own names (its 400 handling is in
  // dial_test.cc), so a raw client stands in for a stranger.
  Listen();
  RawWebSocketClient& stranger = Offer({"moq-00"});
  EXPECT_EQ(stranger.error(), websocket::error::upgrade_declined);
  DialTarget target;
  target.host = "127.0.0.1";
  target.port = listener_->port();
  std::optional<absl::Status> dialed;
  std::unique_ptr<Transport> transport;
  AsyncDial(io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<Transport>> result) {
    dialed = result.status();
    if (result.ok()) transport = std::move(*result);
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return dialed.has_value() && sessions_.size() == 1; }));
  EXPECT_TRUE(dialed->ok()) << *dialed;
}

TEST_F(WebSocketListenerTest, SessionCarriesMessagesAndRefusesText) {
  Listen();
  RawWebSocketClient& client = Offer({"qmux-01.moq-lite-05"});
  ASSERT_FALSE(client.error());
  ASSERT_TRUE(RunUntil(io_, [&] { return sessions_.size() == 1; }));
  TransportPeer& session = *sessions_[0];

  client.ws().binary(true);
  std::string payload("\x01\x02\x00\x03", 4);
  bool written = false;
  client.ws().async_write(boost::asio::buffer(payload), [&](boost::system::error_code ec, size_t) { written = !ec; });
  ASSERT_TRUE(RunUntil(io_, [&] { return written && session.messages.size() == 1; }));
  EXPECT_EQ(session.messages[0], payload);

  boost::beast::flat_buffer buffer;
  bool read = false;
  client.ws().async_read(buffer, [&](boost::system::error_code ec, size_t) { read = !ec; });
  session.transport->Send({"reply"});
  ASSERT_TRUE(RunUntil(io_, [&] { return read; }));
  EXPECT_TRUE(client.ws().got_binary());
  EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), "reply");

  client.ws().text(true);
  client.ws().async_write(boost::asio::buffer(std::string("text")), [](boost::system::error_code, size_t) {});
  buffer.clear();
  boost::system::error_code read_error;
  bool ended = false;
  client.ws().async_read(buffer, [&](boost::system::error_code ec, size_t) {
    read_error = ec;
    ended = true;
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return session.closed > 0 && ended; }));
  EXPECT_EQ(session.status.code(), absl::StatusCode::kInvalidArgument) << session.status;
  EXPECT_THAT(session.status.message(), HasSubstr("127.0.0.1:"));
  EXPECT_EQ(read_error, websocket::error::closed);
  EXPECT_EQ(client.ws().reason().code, websocket::close_code::unknown_data);
  EXPECT_EQ(session.messages.size(), 1u);
}

TEST_F(WebSocketListenerTest, SilentSessionEndsAfterTheIdleTimeout) {
  WebSocketListener::Options options;
  options.idle_timeout_ms = 60;
  Listen(options);
  // The raw client never reads, so it never answers the keep-alive ping.
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
  ASSERT_TRUE(RunUntil(io_, [&] { return sessions_[0]->closed > 0; }));
  EXPECT_EQ(sessions_[0]->status.code(), absl::StatusCode::kDeadlineExceeded) << sessions_[0]->status;
  EXPECT_THAT(sessions_[0]->status.message(), HasSubstr("idle"));
}

TEST_F(WebSocketListenerTest, RefusesPlainHttp) {
  Listen();
  tcp::socket socket(io_);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), listener_->port()));
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> response;
  bool done = false;
  boost::beast::http::async_read(socket, buffer, response, [&](boost::system::error_code, size_t) { done = true; });
  ASSERT_TRUE(RunUntil(io_, [&] { return done; }));
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_EQ(response.body(), "not a websocket upgrade");
  EXPECT_TRUE(sessions_.empty());
}

TEST_F(WebSocketListenerTest, IdleSocketIsDroppedAfterTheHandshakeTimeout) {
  WebSocketListener::Options options;
  options.handshake_timeout_ms = 50;
  Listen(options);
  tcp::socket idle(io_);
  idle.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), listener_->port()));
  char byte;
  boost::system::error_code read_error;
  bool ended = false;
  idle.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t) {
    read_error = ec;
    ended = true;
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return ended; }));
  EXPECT_EQ(read_error, boost::asio::error::eof);
  // The slot it held is free again.
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
}

TEST_F(WebSocketListenerTest, LimitsOpenConnections) {
  WebSocketListener::Options options;
  options.max_connections = 1;
  Listen(options);
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
  // The second is closed before any answer.
  RawWebSocketClient& second = Offer({"qmux-01.moq-lite-05"});
  EXPECT_TRUE(second.error());
  EXPECT_NE(second.error(), websocket::error::upgrade_declined);
  EXPECT_EQ(sessions_.size(), 1u);
  // Ending the first session frees its place (the client reads, so it
  // answers the close handshake).
  boost::beast::flat_buffer buffer;
  clients_[0]->ws().async_read(buffer, [](boost::system::error_code, size_t) {});
  sessions_[0]->transport->Close();
  ASSERT_TRUE(RunUntil(io_, [&] { return sessions_[0]->closed > 0; }));
  EXPECT_TRUE(sessions_[0]->status.ok()) << sessions_[0]->status;
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
}

TEST_F(WebSocketListenerTest, RefusalsAreLoggedOncePerIntervalWithACount) {
  WebSocketListener::Options options;
  options.max_connections = 1;
  Listen(options);
  EXPECT_EQ(Agreed({"qmux-01.moq-lite-05"}), "qmux-01.moq-lite-05");
  ::testing::internal::CaptureStderr();
  constexpr int kRefused = 30;
  for (int i = 0; i < kRefused; ++i) EXPECT_TRUE(Offer({"qmux-01.moq-lite-05"}).error()) << i;
  const std::string log = ::testing::internal::GetCapturedStderr();
  // A flood within one interval: one line, for the first.
  size_t lines = 0;
  for (size_t at = log.find("refused "); at != std::string::npos; at = log.find("refused ", at + 1)) ++lines;
  EXPECT_EQ(lines, 1u) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("refused 1 connection(s)"));
  EXPECT_EQ(sessions_.size(), 1u);
}

TEST_F(WebSocketListenerTest, StopRefusesNewConnectionsAndDropsHandshakes) {
  Listen();
  uint16_t port = listener_->port();
  tcp::socket pending(io_);
  pending.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  RunReady(io_);  // the listener accepts it and waits for the request
  listener_->Stop();
  char byte;
  bool ended = false;
  pending.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::system::error_code, size_t) { ended = true; });
  ASSERT_TRUE(RunUntil(io_, [&] { return ended; }));
  tcp::socket late(io_);
  boost::system::error_code ec;
  late.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, boost::asio::error::connection_refused);
  EXPECT_TRUE(sessions_.empty());
}

TEST_F(WebSocketListenerTest, BindFailureNamesTheAddress) {
  Listen();
  auto again = WebSocketListener::Bind(io_, "127.0.0.1", listener_->port(), [](std::unique_ptr<Transport>) {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.status().message(), HasSubstr("127.0.0.1:" + std::to_string(listener_->port())));
}

}  // namespace
}  // namespace moq_stats::bridge
