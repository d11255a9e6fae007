// AsyncDial against plain Beast servers: what we offer on the wire, how the
// server's answer is read, and how failures are reported.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"
#include "tests/origin_bridge/transport/test_tools/raw_peers.h"

namespace moq_stats::bridge {
namespace {

using boost::asio::ip::tcp;
using test::RawWebSocketServer;
using test::RunReady;
using test::RunUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kWireOffer[] =
    "qmux-01.moq-lite-05, qmux-00.moq-lite-05, qmux-01.moq-lite-04, qmux-00.moq-lite-04, "
    "qmux-01.moq-lite-03, qmux-00.moq-lite-03";

class DialTest : public ::testing::Test {
 protected:
  // Dials and pumps until the handler ran; counts its calls.
  absl::StatusOr<std::unique_ptr<Transport>> Dial(const DialTarget& target, uint64_t timeout_ms = 5000) {
    absl::StatusOr<std::unique_ptr<Transport>> out = absl::UnknownError("not called");
    AsyncDial(io_, target, timeout_ms, [&](absl::StatusOr<std::unique_ptr<Transport>> result) {
      ++calls_;
      out = std::move(result);
    });
    EXPECT_TRUE(RunUntil(io_, [&] { return calls_ > 0; }));
    RunReady(io_);
    EXPECT_EQ(calls_, 1);
    return out;
  }

  static DialTarget WebSocket(uint16_t port, std::string path = "/") {
    DialTarget target;
    target.host = "127.0.0.1";
    target.port = port;
    target.target = std::move(path);
    return target;
  }

  // A port nothing listens on.
  uint16_t ClosedPort() {
    tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    uint16_t port = acceptor.local_endpoint().port();
    acceptor.close();
    return port;
  }

  boost::asio::io_context io_;
  int calls_ = 0;
};

TEST_F(DialTest, OffersEveryVersionOnTheWireAndReadsTheAnswer) {
  RawWebSocketServer server(io_, "qmux-00.moq-lite-03");
  server.Start();
  auto result = Dial(WebSocket(server.port(), "/anon/room?jwt=abc"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(server.offered_headers(), ElementsAre(kWireOffer));
  EXPECT_EQ(server.request().target(), "/anon/room?jwt=abc");
  EXPECT_EQ(server.request()[boost::beast::http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  auto negotiated = (*result)->negotiated();
  ASSERT_TRUE(negotiated.has_value());
  EXPECT_EQ(negotiated->subprotocol, "qmux-00.moq-lite-03");
  EXPECT_EQ(negotiated->version, lite::Version::kLite03);
  EXPECT_FALSE(negotiated->qmux_records);
  EXPECT_EQ((*result)->mode(), qmux::RecordMode::kWebSocket);
  EXPECT_EQ((*result)->peer(), "127.0.0.1:" + std::to_string(server.port()));
}

TEST_F(DialTest, ReadsQmux01Answers) {
  RawWebSocketServer server(io_, "qmux-01.moq-lite-04");
  server.Start();
  auto result = Dial(WebSocket(server.port()));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(server.request().target(), "/");
  EXPECT_EQ((*result)->negotiated()->version, lite::Version::kLite04);
  EXPECT_TRUE((*result)->negotiated()->qmux_records);
}

TEST_F(DialTest, AnswerWeDidNotOfferIsFailedPrecondition) {
  // Kept until the end: their handlers may still be queued.
  std::vector<std::unique_ptr<RawWebSocketServer>> servers;
  for (const char* answer : {"qmux-02.moq-lite-05", "qmux-01", "webtransport", "moq-lite-05"}) {
    servers.push_back(std::make_unique<RawWebSocketServer>(io_, std::string(answer)));
    RawWebSocketServer& server = *servers.back();
    server.Start();
    calls_ = 0;
    auto result = Dial(WebSocket(server.port()));
    ASSERT_FALSE(result.ok()) << answer;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(answer));
    EXPECT_THAT(result.status().message(), HasSubstr("127.0.0.1:" + std::to_string(server.port())));
  }
}

TEST_F(DialTest, NoSubprotocolInTheAnswerIsFailedPrecondition) {
  RawWebSocketServer server(io_, std::nullopt);
  server.Start();
  auto result = Dial(WebSocket(server.port()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("no subprotocol"));
}

TEST_F(DialTest, RefusedUpgradeIsReportedByStatus) {
  struct Case {
    unsigned http_status;
    absl::StatusCode code;
  };
  std::vector<std::unique_ptr<RawWebSocketServer>> servers;
  for (Case c : {Case{400, absl::StatusCode::kFailedPrecondition}, Case{403, absl::StatusCode::kPermissionDenied},
                 Case{503, absl::StatusCode::kUnavailable}}) {
    servers.push_back(std::make_unique<RawWebSocketServer>(io_, std::nullopt, c.http_status));
    servers.back()->Start();
    calls_ = 0;
    auto result = Dial(WebSocket(servers.back()->port()));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), c.code) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(std::to_string(c.http_status)));
  }
}

TEST_F(DialTest, ClosedPortIsUnavailableNamingHostAndPort) {
  uint16_t port = ClosedPort();
  auto result = Dial(WebSocket(port));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("ws://127.0.0.1:" + std::to_string(port)));

  DialTarget tcp_target = WebSocket(port);
  tcp_target.scheme = DialTarget::Scheme::kTcp;
  calls_ = 0;
  result = Dial(tcp_target);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("tcp://127.0.0.1:" + std::to_string(port)));
}

TEST_F(DialTest, SilentServerTimesOutNamingHostAndPort) {
  // Accepts the TCP connection (the kernel does) but never answers.
  tcp::acceptor silent(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = silent.local_endpoint().port();
  auto result = Dial(WebSocket(port), 100);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(result.status().message(), HasSubstr("100 ms"));
}

TEST_F(DialTest, MissingHostOrPortIsInvalidArgument) {
  DialTarget target;
  target.host = "";
  target.port = 80;
  auto result = Dial(target);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  calls_ = 0;
  target.host = "127.0.0.1";
  target.port = 0;
  result = Dial(target);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DialTest, Ipv6HostIsBracketedInMessages) {
  tcp::acceptor probe(io_);
  boost::system::error_code ec;
  probe.open(tcp::v6(), ec);
  if (!ec) probe.bind(tcp::endpoint(boost::asio::ip::make_address("::1"), 0), ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback: " << ec.message();
  uint16_t port = probe.local_endpoint().port();
  probe.close();
  DialTarget target;
  target.host = "::1";
  target.port = port;
  auto result = Dial(target);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("[::1]:" + std::to_string(port)));
}

}  // namespace
}  // namespace moq_stats::bridge
