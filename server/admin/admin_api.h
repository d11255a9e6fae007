#ifndef MOQ_STATS_SERVER_ADMIN_ADMIN_API_H_
#define MOQ_STATS_SERVER_ADMIN_ADMIN_API_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "moq/stats/v1/stats.pb.h"
#include "origin/origin.h"
#include "server/admin/admin_route.h"
#include "server/admin/sse_watch.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// The read side of the contract over plain HTTP on the admin listener, for
// curl users and the dashboard page (an AdminRouter):
//   GET /api/v1/levels[?prefix=&page_size=&page_token=]   ListLevels
//   GET /api/v1/levels/{key}                              GetLevel
//   GET /api/v1/info                                      GetInfo
//   GET /api/v1/watch[?prefix=]                           Watch, as Server-Sent Events (see SseWatch)
//   GET /, /app.js, /style.css                            the dashboard page
// Answers are the gRPC JSON mapping of the responses (lowerCamelCase field
// names, 64-bit integers as strings, zeros included). Errors are JSON too,
// {"error":{"code":404,"status":"NOT_FOUND","message":"..."}}: 400 for a
// bad prefix, key, page size or token, 404 for an unknown level or path,
// 503 when max_streams watch streams are open already.
//
// Safe for concurrent access from multiple threads; `origin` must outlive
// the admin listener (streams hold it).
class AdminApi {
 public:
  using InfoFn = std::function<moq::stats::v1::GetInfoResponse()>;

  struct Options {
    // Watch streams open at once; more get 503.
    size_t max_streams = 16;
    SseWatchOptions watch;
  };

  AdminApi(Stats stats, Origin* origin, InfoFn info, Options options);
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  // The AdminRouter.
  std::optional<AdminReply> Route(const AdminRequest& request);

  // Watch streams open now.
  size_t streams() const { return streams_->load(std::memory_order_relaxed); }

 private:
  AdminReply Levels(const AdminRequest& request) const;
  AdminReply Level(const std::string& key) const;
  AdminReply Watch(const AdminRequest& request);

  const Stats stats_;
  Origin* const origin_;
  const InfoFn info_;
  const Options options_;
  // Shared with the streams, which may outlive this object until the
  // listener closes them.
  const std::shared_ptr<std::atomic<size_t>> streams_ = std::make_shared<std::atomic<size_t>>(0);
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_ADMIN_API_H_
