#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_

// "host:port" strings for logs and error messages, with IPv6 addresses in
// brackets ("[::1]:4443"). Pure functions; safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace moq_stats::bridge {

// `host` as given (a name or an address) and `port`.
std::string HostPort(std::string_view host, uint16_t port);

// A connected socket's endpoint.
std::string HostPort(const boost::asio::ip::tcp::endpoint& endpoint);

// The remote end of `socket`, or "unknown" when it is not connected.
std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket);

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_
