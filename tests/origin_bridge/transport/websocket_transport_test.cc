#include "origin_bridge/transport/websocket_transport.h"

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"
#include "tests/origin_bridge/transport/test_tools/loopback_pair.h"
#include "tests/origin_bridge/transport/test_tools/transport_peer.h"

namespace moq_stats::bridge {
namespace {

using test::DialLoopback;
using test::ExpectDrainedOnceTheQueueIsWritten;
using test::RunReady;
using test::RunUntil;
using test::TransportPeer;
using ::testing::HasSubstr;

// A client transport from AsyncDial connected to a server transport from
// WebSocketListener, both over loopback.
class WebSocketTransportTest : public ::testing::Test {
 protected:
  void Connect() {
    auto bound = WebSocketListener::Bind(io_, "127.0.0.1", 0,
                                         [this](std::unique_ptr<Transport> t) { server_.Start(std::move(t)); });
    ASSERT_TRUE(bound.ok()) << bound.status();
    listener_ = std::move(*bound);
    DialTarget target;
    target.host = "127.0.0.1";
    target.port = listener_->port();
    DialLoopback(io_, target, client_, server_);
  }

  static std::vector<std::string> Numbered(int count, size_t size) {
    std::vector<std::string> chunks;
    for (int i = 0; i < count; ++i) {
      std::string chunk = std::to_string(i) + ":";
      chunk.resize(size, static_cast<char>('a' + i % 26));
      chunks.push_back(std::move(chunk));
    }
    return chunks;
  }

  boost::asio::io_context io_;
  std::unique_ptr<WebSocketListener> listener_;
  TransportPeer server_;
  TransportPeer client_;
};

TEST_F(WebSocketTransportTest, BothEndsAgreeOnTheMostPreferredSubprotocol) {
  Connect();
  for (TransportPeer* peer : {&client_, &server_}) {
    EXPECT_EQ(peer->transport->mode(), qmux::RecordMode::kWebSocket);
    auto negotiated = peer->transport->negotiated();
    ASSERT_TRUE(negotiated.has_value());
    EXPECT_EQ(negotiated->subprotocol, "qmux-01.moq-lite-05");
    EXPECT_EQ(negotiated->version, lite::Version::kLite05);
    EXPECT_TRUE(negotiated->qmux_records);
    EXPECT_THAT(peer->transport->peer(), HasSubstr("127.0.0.1:"));
  }
  EXPECT_EQ(client_.transport->peer(), "127.0.0.1:" + std::to_string(listener_->port()));
}

TEST_F(WebSocketTransportTest, ExchangesWholeMessagesBothWays) {
  Connect();
  std::string big(200 * 1024, 'b');
  std::string binary("x\0y\xff", 4);
  client_.transport->Send({"hello", "", binary, big});
  EXPECT_EQ(client_.transport->queued_bytes(), 5u + 4u + big.size());
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.messages.size() == 4; }));
  EXPECT_EQ(server_.messages[0], "hello");
  EXPECT_EQ(server_.messages[1], "");
  EXPECT_EQ(server_.messages[2], binary);
  EXPECT_EQ(server_.messages[3], big);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.transport->queued_bytes() == 0; }));

  server_.transport->Send({"one"});
  server_.transport->Send({"two", "three"});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.messages.size() == 3; }));
  EXPECT_THAT(client_.messages, ::testing::ElementsAre("one", "two", "three"));
  EXPECT_EQ(client_.closed, 0);
  EXPECT_EQ(server_.closed, 0);
}

TEST_F(WebSocketTransportTest, ReportsDrainedOnceTheQueueIsWritten) {
  Connect();
  ExpectDrainedOnceTheQueueIsWritten(io_, client_, server_);
}

TEST_F(WebSocketTransportTest, PeerCloseEndsBothSidesOnce) {
  Connect();
  server_.transport->Close();
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0 && server_.closed > 0; }));
  RunReady(io_);
  EXPECT_EQ(client_.closed, 1);
  EXPECT_EQ(server_.closed, 1);
  EXPECT_TRUE(client_.status.ok()) << client_.status;
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  // Safe to destroy after on_closed; later calls are ignored.
  client_.transport->Send({"late"});
  client_.transport->Close();
  EXPECT_EQ(client_.transport->queued_bytes(), 0u);
  client_.transport.reset();
  server_.transport.reset();
  RunReady(io_);
  EXPECT_EQ(client_.closed, 1);
}

TEST_F(WebSocketTransportTest, MessageAtTheBoundPassesAndAboveItCloses) {
  Connect();
  client_.transport->Send({std::string(1 << 20, 'm')});
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.messages.size() == 1; }));
  EXPECT_EQ(server_.messages[0].size(), 1u << 20);

  client_.transport->Send({std::string((1 << 20) + 1, 'm')});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0 && server_.closed > 0; }));
  EXPECT_EQ(server_.messages.size(), 1u);
  EXPECT_EQ(server_.status.code(), absl::StatusCode::kResourceExhausted) << server_.status;
  EXPECT_THAT(server_.status.message(), HasSubstr("127.0.0.1:"));
  EXPECT_FALSE(client_.status.ok());
  EXPECT_THAT(client_.status.message(), HasSubstr("1009"));
  RunReady(io_);
  EXPECT_EQ(server_.closed, 1);
  EXPECT_EQ(client_.closed, 1);
}

TEST_F(WebSocketTransportTest, CloseFlushesQueuedChunksInOrder) {
  Connect();
  std::vector<std::string> chunks = Numbered(2000, 512);
  client_.transport->Send(chunks);
  EXPECT_GT(client_.transport->queued_bytes(), 0u);
  client_.transport->Close();
  client_.transport->Send({"after close"});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0 && server_.closed > 0; }));
  EXPECT_EQ(server_.messages, chunks);
  EXPECT_TRUE(client_.status.ok()) << client_.status;
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  EXPECT_EQ(client_.transport->queued_bytes(), 0u);
}

TEST_F(WebSocketTransportTest, DestroyingAfterCloseStillFlushes) {
  Connect();
  std::vector<std::string> chunks = Numbered(500, 1024);
  client_.transport->Send(chunks);
  client_.transport->Close();
  client_.transport.reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.closed > 0; }));
  EXPECT_EQ(server_.messages, chunks);
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  EXPECT_EQ(client_.closed, 0);  // no handler runs after destruction
}

TEST_F(WebSocketTransportTest, DestroyingWithWritesInFlightDropsTheConnection) {
  Connect();
  client_.transport->Send(Numbered(500, 4096));
  client_.transport.reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.closed > 0; }));
  EXPECT_LT(server_.messages.size(), 500u);
  RunReady(io_);
  EXPECT_EQ(server_.closed, 1);
  EXPECT_EQ(client_.closed, 0);
}

TEST_F(WebSocketTransportTest, TransportMayBeDestroyedFromItsOwnHandler) {
  Connect();
  server_.on_bytes = [this](std::string_view) { server_.transport.reset(); };
  client_.transport->Send({"first", "second", "third"});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0; }));
  EXPECT_EQ(server_.messages.size(), 1u);
  EXPECT_EQ(server_.closed, 0);
}

TEST_F(WebSocketTransportTest, CloseFromOnClosedAndOnBytesIsHarmless) {
  Connect();
  server_.on_bytes = [this](std::string_view) {
    server_.transport->Close();
    server_.transport->Close();
  };
  client_.transport->Send({"bye"});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0 && server_.closed > 0; }));
  RunReady(io_);
  EXPECT_EQ(server_.closed, 1);
  EXPECT_EQ(client_.closed, 1);
  EXPECT_TRUE(client_.status.ok()) << client_.status;
}

}  // namespace
}  // namespace moq_stats::bridge
