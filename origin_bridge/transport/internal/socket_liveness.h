#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_SOCKET_LIVENESS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_SOCKET_LIVENESS_H_

// Socket options that let a session notice a peer that vanished without a
// word (a relay's host lost, a NAT mapping dropped): TCP keep-alive probes
// on an idle connection, and a bound on how long sent data may stay
// unacknowledged. Either ends the connection with an error, which ends the
// session, so dial mode redials. Linux only; failures are ignored (the
// socket still works, it only notices later).

#include <boost/asio/ip/tcp.hpp>

namespace moq_stats::bridge::internal {

// Idle seconds before the first probe, seconds between probes, probes
// unanswered before the connection is dropped: a silent peer is noticed
// after about 30 s.
inline constexpr int kKeepAliveIdleSeconds = 15;
inline constexpr int kKeepAliveIntervalSeconds = 5;
inline constexpr int kKeepAliveProbes = 3;
// Sent data unacknowledged this long drops the connection.
inline constexpr unsigned kUserTimeoutMs = 30'000;

void SetLivenessOptions(boost::asio::ip::tcp::socket& socket);

}  // namespace moq_stats::bridge::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_SOCKET_LIVENESS_H_
