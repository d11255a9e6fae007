#ifndef MOQ_STATS_SERVER_ADMIN_ADMIN_HTTP_SERVER_H_
#define MOQ_STATS_SERVER_ADMIN_ADMIN_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/admin/admin_route.h"

namespace moq_stats::server {

// The sidecar's HTTP admin listener (Boost.Beast, HTTP/1.1 with keep-alive),
// on a thread of its own:
//   GET /healthz  200 "ok\n" while healthy, 503 with the reason otherwise
//   GET /readyz   200 "ok\n" while ready for traffic, 503 with the reason
//                 otherwise
//   GET /metrics  200, the Prometheus text the metrics callback returns
// and any other GET/HEAD path the routes callback serves (the JSON API and
// the page, see AdminApi), which may take the connection over for a stream.
// Only GET and HEAD are served, and nothing changes state: any other method
// gets 405, an unknown path 404. Requests whose header (or body) is over
// 8 KiB, or malformed ones, get 400 and the connection closed; a connection
// idle for the idle timeout is closed; connections over the cap are closed as
// soon as they are accepted. It never crashes on what a client sends.
//
// Safe for concurrent access from multiple threads. The callbacks run on the
// server's thread and must not block for long.
class AdminHttpServer {
 public:
  struct Handlers {
    // Returns an empty string while healthy, else the reason for 503.
    std::function<std::string()> health;
    // Returns an empty string while ready, else the reason for 503; unset:
    // always ready.
    std::function<std::string()> readiness;
    // Returns the /metrics body.
    std::function<std::string()> metrics;
    // Other GET/HEAD paths (the JSON API and the page); null: none.
    AdminRouter routes;
  };

  // Bounds on what clients may hold.
  struct Limits {
    // Connections open at once; one more is closed as soon as accepted.
    size_t max_connections = 16;
    // An idle connection (or one sending a request this slowly) is closed.
    absl::Duration idle_timeout = absl::Seconds(30);
  };

  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and starts
  // serving. INVALID_ARGUMENT for a malformed address, UNAVAILABLE (naming
  // the address and the system error) when it cannot bind.
  static absl::StatusOr<std::unique_ptr<AdminHttpServer>> Start(const std::string& listen, Handlers handlers);
  static absl::StatusOr<std::unique_ptr<AdminHttpServer>> Start(const std::string& listen, Handlers handlers,
                                                                Limits limits);

  // Stops accepting, closes every connection and joins the thread.
  virtual ~AdminHttpServer() = default;

  // The port actually bound.
  virtual int port() const = 0;

  // Connections open now, and those closed at once over the cap so far.
  virtual size_t connections() const = 0;
  virtual uint64_t connections_refused() const = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_ADMIN_HTTP_SERVER_H_
