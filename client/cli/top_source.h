#ifndef MOQ_STATS_CLIENT_CLI_TOP_SOURCE_H_
#define MOQ_STATS_CLIENT_CLI_TOP_SOURCE_H_

// How `moq-stats top` reads the sidecar: one refresh is a GetInfo and then
// ListLevels page after page, each call with its own deadline.

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/cli/top_model.h"
#include "client/cli/top_view.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace cli {

// What one refresh read.
struct TopRead {
  absl::Time taken;  // when the last answer arrived
  TopSidecarInfo sidecar;
  std::vector<TopLevelReading> levels;
};

// TopSidecarInfo from a GetInfo answer: relay sessions from the
// moq_stats_sessions_open counter, and the bridge as "off",
// "dial connected|disconnected" and/or "serve N session(s)".
TopSidecarInfo SidecarInfoFrom(const moq::stats::v1::GetInfoResponse& info);

// Reads the sidecar at `target` for top. Use from one thread.
class TopSource {
 public:
  // The levels at or under `prefix` ("" for all); each call's deadline is
  // `timeout` after it starts.
  // `channel` reaches the sidecar at `target` (named in errors), with the
  // CLI's credentials (NewSidecarChannel).
  TopSource(std::shared_ptr<grpc::Channel> channel, const std::string& target, std::string prefix,
            absl::Duration timeout);

  // One refresh; on failure the message for people (DescribeCallError) as
  // UNAVAILABLE.
  absl::Status Read(TopRead* read);

 private:
  const std::string target_;
  const std::string prefix_;
  const absl::Duration timeout_;
  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TOP_SOURCE_H_
