#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_

// A socket's remote end as "host:port" for logs and error messages, with an
// IPv6 address in brackets ("[::1]:4443"), as FormatHostPort writes it. Pure
// function; safe from any thread.

#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace moq_stats::bridge {

// The remote end of `socket`, or "unknown" when it is not connected.
std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket);

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_PEER_ADDRESS_H_
