#include "origin_bridge/transport/peer_address.h"

#include "common/host_port.h"

namespace moq_stats::bridge {

std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  boost::asio::ip::tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return FormatHostPort(endpoint.address().to_string(), endpoint.port());
}

}  // namespace moq_stats::bridge
