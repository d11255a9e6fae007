#ifndef MOQ_STATS_SERVER_GRPC_STATS_SERVICE_H_
#define MOQ_STATS_SERVER_GRPC_STATS_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin/origin.h"
#include "server/auth/call_auth.h"
#include "server/grpc/session_stream.h"
#include "server/grpc/stream_set.h"
#include "server/grpc/watch_queue.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"

namespace moq_stats::server {

// moq.stats.v1.StatsService on gRPC's callback API: Session streams go to the
// SessionRegistry, Watch streams follow the origin, and the unary reads look
// at the aggregator. No handler blocks.
//
// Safe for concurrent access from multiple threads. The origin must outlive
// the service, and the service must outlive the gRPC server it is registered
// with.
class StatsService final : public moq::stats::v1::StatsService::CallbackService {
 public:
  using InfoFn = std::function<moq::stats::v1::GetInfoResponse()>;

  struct Options {
    SessionStreamOptions session;  // the open deadline (none by default)
    WatchQueueLimits watch;        // what a Watch stream may hold unwritten
    // Decides, before anything else, whether a call may go on: a non-OK
    // status ends it with that status. Unset: every call goes on.
    std::function<grpc::Status(const grpc::CallbackServerContext& context, RpcAccess access)> authorize;
  };

  StatsService(Stats stats, std::shared_ptr<SessionRegistry> registry, Origin* origin, InfoFn info,
               Options options = {});

  grpc::ServerBidiReactor<moq::stats::v1::SessionRequest, moq::stats::v1::SessionResponse>* Session(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetLevel(grpc::CallbackServerContext* context,
                                     const moq::stats::v1::GetLevelRequest* request,
                                     moq::stats::v1::GetLevelResponse* response) override;
  grpc::ServerUnaryReactor* ListLevels(grpc::CallbackServerContext* context,
                                       const moq::stats::v1::ListLevelsRequest* request,
                                       moq::stats::v1::ListLevelsResponse* response) override;
  grpc::ServerWriteReactor<moq::stats::v1::WatchEvent>* Watch(grpc::CallbackServerContext* context,
                                                              const moq::stats::v1::WatchRequest* request) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context, const moq::stats::v1::GetInfoRequest* request,
                                    moq::stats::v1::GetInfoResponse* response) override;

  // Ends every Session and Watch stream with `status`, and every later one
  // at once (graceful shutdown).
  void EndAllStreams(const grpc::Status& status);

  size_t session_streams() const { return sessions_.size(); }
  size_t watch_streams() const { return watches_.size(); }
  // Session streams ended for sending no open within the open timeout.
  uint64_t session_open_timeouts() const { return open_timeouts_.load(std::memory_order_relaxed); }

  // Page sizes of ListLevels.
  static constexpr uint32_t kDefaultPageSize = 100;
  static constexpr uint32_t kMaxPageSize = 1000;

 private:
  grpc::Status Authorize(const grpc::CallbackServerContext& context, RpcAccess access) const;

  const Stats stats_;
  const std::shared_ptr<SessionRegistry> registry_;
  Origin* const origin_;
  const InfoFn info_;
  const Options options_;
  StreamSet sessions_;
  StreamSet watches_;
  // Relaxed: a self-counter, it orders nothing.
  std::atomic<uint64_t> open_timeouts_{0};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_STATS_SERVICE_H_
