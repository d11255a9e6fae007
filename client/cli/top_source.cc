#include "client/cli/top_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/cli/sidecar_channel.h"
#include "proto/counts_proto.h"

namespace moq_stats {
namespace cli {
namespace {

namespace pb = ::moq::stats::v1;

// Levels asked for per ListLevels page (the service's maximum).
constexpr uint32_t kPageSize = 1000;

}  // namespace

TopSidecarInfo SidecarInfoFrom(const pb::GetInfoResponse& info) {
  TopSidecarInfo out;
  out.version = info.version();
  out.uptime = absl::Seconds(info.uptime_seconds());
  if (auto it = info.counters().find("moq_stats_sessions_open"); it != info.counters().end() && it->second >= 0) {
    out.relay_sessions = static_cast<uint64_t>(it->second);
  }
  std::vector<std::string> parts;
  const pb::BridgeInfo& bridge = info.bridge();
  if (bridge.dial().enabled()) parts.push_back(bridge.dial().connected() ? "dial connected" : "dial disconnected");
  if (bridge.serve().enabled()) {
    parts.push_back(
        absl::StrCat("serve ", bridge.serve().sessions(), bridge.serve().sessions() == 1 ? " session" : " sessions"));
  }
  out.bridge = parts.empty() ? "off" : absl::StrJoin(parts, ", ");
  return out;
}

TopSource::TopSource(std::shared_ptr<grpc::Channel> channel, const std::string& target, std::string prefix,
                     absl::Duration timeout)
    : target_(target), prefix_(std::move(prefix)), timeout_(timeout), stub_(pb::StatsService::NewStub(channel)) {}

absl::Status TopSource::Read(TopRead* read) {
  read->levels.clear();
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    pb::GetInfoResponse info;
    grpc::Status status = stub_->GetInfo(&context, pb::GetInfoRequest(), &info);
    if (!status.ok()) return absl::UnavailableError(DescribeCallError("GetInfo", target_, status));
    read->sidecar = SidecarInfoFrom(info);
  }
  std::string token;
  do {
    pb::ListLevelsRequest request;
    request.set_prefix(prefix_);
    request.set_page_size(kPageSize);
    request.set_page_token(token);
    pb::ListLevelsResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    grpc::Status status = stub_->ListLevels(&context, request, &response);
    if (!status.ok()) return absl::UnavailableError(DescribeCallError("ListLevels", target_, status));
    for (const pb::Level& level : response.levels()) {
      read->levels.push_back(TopLevelReading{level.key(), CountsFromProto(level.external_publisher()),
                                             CountsFromProto(level.external_subscriber())});
    }
    if (!response.next_page_token().empty() && response.next_page_token() == token) {
      return absl::UnavailableError(absl::StrCat("ListLevels failed: the sidecar at ", target_,
                                                 " returned the page token \"", token, "\" again"));
    }
    token = response.next_page_token();
  } while (!token.empty());
  read->taken = absl::Now();
  return absl::OkStatus();
}

}  // namespace cli
}  // namespace moq_stats
