#ifndef MOQ_STATS_SERVER_ADMIN_ADMIN_ROUTE_H_
#define MOQ_STATS_SERVER_ADMIN_ADMIN_ROUTE_H_

// What the admin listener hands to routes beyond its own (/healthz,
// /metrics), and what they answer: a whole response, or a stream that takes
// the connection over.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace moq_stats::server {

// A GET (or HEAD) request, split at the first '?'.
struct AdminRequest {
  std::string path;   // e.g. "/api/v1/levels/live/room"
  std::string query;  // without the '?', not decoded
  bool head = false;
};

struct AdminReply {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra header fields, e.g. {"Cache-Control", "no-store"}.
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a streamed answer (Server-Sent Events): the listener writes
  // nothing and hands the connection over; the stream writes the response
  // itself, on the socket's executor (the listener's thread), and closes it.
  std::function<void(boost::asio::ip::tcp::socket)> stream;
};

// Returns nullopt for a path it does not serve (the listener answers 404).
// Runs on the listener's thread and must not block for long.
using AdminRouter = std::function<std::optional<AdminReply>(const AdminRequest&)>;

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_ADMIN_ROUTE_H_
