#include "origin_bridge/transport/peer_address.h"

#include "absl/strings/str_cat.h"

namespace moq_stats::bridge {

std::string HostPort(std::string_view host, uint16_t port) {
  absl::string_view h(host.data(), host.size());
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", h, "]:", port);
  return absl::StrCat(h, ":", port);
}

std::string HostPort(const boost::asio::ip::tcp::endpoint& endpoint) {
  return HostPort(endpoint.address().to_string(), endpoint.port());
}

std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  boost::asio::ip::tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return HostPort(endpoint);
}

}  // namespace moq_stats::bridge
