#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SILENT_SESSION_STREAMS_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SILENT_SESSION_STREAMS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace integration {

// Many Session streams that say little or nothing, as an idle or hostile
// client would hold them: each sends nothing at all, or an open and then
// nothing. On gRPC's callback API, so a thousand of them need no thread
// each; every wait is bounded.
//
// Use from one thread. The destructor cancels the streams still open and
// waits for every one to end. Not copyable: it owns the calls.
class SilentSessionStreams {
 public:
  enum class Mode { kNeverOpen, kOpenThenSilent };

  // Each stream lives at most `lifetime` (its gRPC deadline).
  SilentSessionStreams(std::shared_ptr<grpc::Channel> channel, absl::Duration lifetime = absl::Seconds(120));
  ~SilentSessionStreams();
  SilentSessionStreams(const SilentSessionStreams&) = delete;
  SilentSessionStreams& operator=(const SilentSessionStreams&) = delete;

  // Starts `count` streams; those that open use the session ids
  // `id_prefix` + 0, 1, ...
  void Start(int count, Mode mode, const std::string& id_prefix = "");

  // Waits until at least `count` streams got their welcome (or ended), for
  // at most `timeout`; whether they did.
  bool WaitWelcomed(int count, absl::Duration timeout);
  // Waits until at least `count` streams ended, for at most `timeout`;
  // whether they did.
  bool WaitEnded(int count, absl::Duration timeout);

  int welcomed() const;
  int ended() const;
  // How the streams that ended so far ended, by status code.
  std::map<grpc::StatusCode, int> ended_by_code() const;

 private:
  class Stream;
  void Welcomed();
  void Ended(const grpc::Status& status);

  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;
  const absl::Duration lifetime_;
  std::vector<std::unique_ptr<Stream>> streams_;

  mutable absl::Mutex mu_;
  int welcomed_ ABSL_GUARDED_BY(mu_) = 0;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<grpc::StatusCode, int> codes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SILENT_SESSION_STREAMS_H_
