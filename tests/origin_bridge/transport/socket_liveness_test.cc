#include "origin_bridge/transport/internal/socket_liveness.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gtest/gtest.h"

namespace moq_stats::bridge::internal {
namespace {

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t size = sizeof(value);
  EXPECT_EQ(getsockopt(fd, level, name, &value, &size), 0);
  return value;
}

TEST(SocketLivenessTest, SetsKeepAliveProbesAndUserTimeout) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(acceptor.local_endpoint());
  const int fd = socket.native_handle();
  EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 0);  // off by default

  SetLivenessOptions(socket);
  EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE), kKeepAliveIdleSeconds);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL), kKeepAliveIntervalSeconds);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPCNT), kKeepAliveProbes);
  EXPECT_EQ(static_cast<unsigned>(IntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT)), kUserTimeoutMs);
}

}  // namespace
}  // namespace moq_stats::bridge::internal
