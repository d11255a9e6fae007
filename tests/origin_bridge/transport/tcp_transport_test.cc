#include "origin_bridge/transport/tcp_transport.h"

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/transport/peer_address.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"
#include "tests/origin_bridge/transport/test_tools/loopback_pair.h"
#include "tests/origin_bridge/transport/test_tools/transport_peer.h"

namespace moq_stats::bridge {
namespace {

using boost::asio::ip::tcp;
using test::DialLoopback;
using test::ExpectDrainedOnceTheQueueIsWritten;
using test::RunReady;
using test::RunUntil;
using test::TransportPeer;
using ::testing::HasSubstr;

// A client transport from AsyncDial (tcp://) connected to a server transport
// made from an accepted socket, both over loopback.
class TcpTransportTest : public ::testing::Test {
 protected:
  void Connect() {
    tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      ASSERT_FALSE(ec) << ec.message();
      std::string peer = RemoteAddress(socket);
      server_.Start(MakeTcpTransport(std::move(socket), peer));
    });
    DialTarget target;
    target.scheme = DialTarget::Scheme::kTcp;
    target.host = "127.0.0.1";
    target.port = acceptor.local_endpoint().port();
    DialLoopback(io_, target, client_, server_);
    port_ = target.port;
  }

  static std::string Pattern(size_t size, int seed) {
    std::string out(size, '\0');
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 31 + seed) & 0xff);
    return out;
  }

  boost::asio::io_context io_;
  TransportPeer server_;
  TransportPeer client_;
  uint16_t port_ = 0;
};

TEST_F(TcpTransportTest, CarriesBytesWithoutNegotiating) {
  Connect();
  EXPECT_EQ(client_.transport->mode(), qmux::RecordMode::kTcp);
  EXPECT_EQ(server_.transport->mode(), qmux::RecordMode::kTcp);
  EXPECT_FALSE(client_.transport->negotiated().has_value());
  EXPECT_FALSE(server_.transport->negotiated().has_value());
  EXPECT_EQ(client_.transport->peer(), "127.0.0.1:" + std::to_string(port_));
  EXPECT_THAT(server_.transport->peer(), HasSubstr("127.0.0.1:"));
}

TEST_F(TcpTransportTest, ExchangesBytesBothWaysInOrder) {
  Connect();
  std::string a = Pattern(10, 1), b = Pattern(300 * 1024, 2), c = Pattern(1, 3);
  client_.transport->Send({a, "", b, c});
  EXPECT_EQ(client_.transport->queued_bytes(), a.size() + b.size() + c.size());
  std::string want = a + b + c;
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.bytes_received >= want.size(); }));
  EXPECT_EQ(server_.received, want);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.transport->queued_bytes() == 0; }));

  server_.transport->Send({"pong", Pattern(70000, 4)});
  std::string back = "pong" + Pattern(70000, 4);
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.bytes_received >= back.size(); }));
  EXPECT_EQ(client_.received, back);
  EXPECT_EQ(client_.closed, 0);
  EXPECT_EQ(server_.closed, 0);
}

TEST_F(TcpTransportTest, ReportsDrainedOnceTheQueueIsWritten) {
  Connect();
  ExpectDrainedOnceTheQueueIsWritten(io_, client_, server_);
}

TEST_F(TcpTransportTest, PeerCloseEndsBothSidesOnce) {
  Connect();
  server_.transport->Send({"last words"});
  server_.transport->Close();
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0 && server_.closed > 0; }));
  RunReady(io_);
  EXPECT_EQ(client_.received, "last words");
  EXPECT_EQ(client_.closed, 1);
  EXPECT_EQ(server_.closed, 1);
  EXPECT_TRUE(client_.status.ok()) << client_.status;
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  client_.transport.reset();
  server_.transport.reset();
  RunReady(io_);
}

TEST_F(TcpTransportTest, CloseFlushesManyQueuedChunks) {
  Connect();
  std::vector<std::string> chunks;
  std::string want;
  for (int i = 0; i < 3000; ++i) {
    chunks.push_back(Pattern(700, i));
    want += chunks.back();
  }
  client_.transport->Send(chunks);
  client_.transport->Close();
  client_.transport->Send({"dropped"});
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.closed > 0 && client_.closed > 0; }));
  EXPECT_EQ(server_.received, want);
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  EXPECT_TRUE(client_.status.ok()) << client_.status;
  EXPECT_EQ(client_.transport->queued_bytes(), 0u);
}

TEST_F(TcpTransportTest, DestroyingAfterCloseStillFlushes) {
  Connect();
  std::string want;
  std::vector<std::string> chunks;
  for (int i = 0; i < 1000; ++i) {
    chunks.push_back(Pattern(1000, i));
    want += chunks.back();
  }
  client_.transport->Send(chunks);
  client_.transport->Close();
  client_.transport.reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.closed > 0; }));
  EXPECT_EQ(server_.received, want);
  EXPECT_TRUE(server_.status.ok()) << server_.status;
  // The server's end of stream lets the abandoned client finish too.
  server_.transport.reset();
  RunReady(io_);
  EXPECT_EQ(client_.closed, 0);
}

TEST_F(TcpTransportTest, DestroyingWithWritesInFlightDropsTheConnection) {
  Connect();
  client_.transport->Send(std::vector<std::string>(200, Pattern(64 * 1024, 5)));
  client_.transport.reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return server_.closed > 0; }));
  EXPECT_LT(server_.bytes_received, 200u * 64 * 1024);
  RunReady(io_);
  EXPECT_EQ(server_.closed, 1);
}

TEST_F(TcpTransportTest, TransportMayBeDestroyedFromItsOwnHandler) {
  Connect();
  server_.on_bytes = [this](std::string_view) { server_.transport.reset(); };
  client_.transport->Send({"x"});
  ASSERT_TRUE(RunUntil(io_, [&] { return client_.closed > 0; }));
  EXPECT_EQ(server_.closed, 0);
  EXPECT_TRUE(client_.status.ok()) << client_.status;
}

}  // namespace
}  // namespace moq_stats::bridge
