#include "server/grpc/stats_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/grpc/proto_convert.h"
#include "server/grpc/session_stream.h"
#include "server/grpc/watch_stream.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

constexpr char kPageTokenTag[] = "after:";
constexpr size_t kPageTokenTagSize = sizeof(kPageTokenTag) - 1;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// A stream that ends at once with `status` (a stream still has to be
// returned for a call that is refused).
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

StatsService::StatsService(Stats stats, std::shared_ptr<SessionRegistry> registry, Origin* origin, InfoFn info,
                           Options options)
    : stats_(std::move(stats)),
      registry_(std::move(registry)),
      origin_(origin),
      info_(std::move(info)),
      options_(options) {}

grpc::ServerBidiReactor<pb::SessionRequest, pb::SessionResponse>* StatsService::Session(
    grpc::CallbackServerContext* context) {
  if (grpc::Status s = Authorize(*context, RpcAccess::kWrite); !s.ok()) {
    return new Refused<grpc::ServerBidiReactor<pb::SessionRequest, pb::SessionResponse>>(s);
  }
  return new SessionStream(registry_, &sessions_, options_.session, &open_timeouts_);
}

grpc::ServerUnaryReactor* StatsService::GetLevel(grpc::CallbackServerContext* context,
                                                 const pb::GetLevelRequest* request, pb::GetLevelResponse* response) {
  if (grpc::Status s = Authorize(*context, RpcAccess::kRead); !s.ok()) return Done(context, s);
  if (absl::Status s = ValidatePath(request->key()); !s.ok()) {
    return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("key: ", s.message())));
  }
  std::shared_ptr<const Level> level = stats_.level(Path(request->key()));
  if (!level) {
    return Done(context, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                      absl::StrCat("no level \"", Path(request->key()).str(), "\"")));
  }
  LevelToProto(*level, response->mutable_level());
  return Done(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* StatsService::ListLevels(grpc::CallbackServerContext* context,
                                                   const pb::ListLevelsRequest* request,
                                                   pb::ListLevelsResponse* response) {
  if (grpc::Status s = Authorize(*context, RpcAccess::kRead); !s.ok()) return Done(context, s);
  if (absl::Status s = ValidatePath(request->prefix()); !s.ok()) {
    return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("prefix: ", s.message())));
  }
  uint32_t page_size = request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  // A token is "after:" and the last key of the previous page, so that the
  // root's empty key is a token too.
  std::optional<Path> after;
  if (!request->page_token().empty()) {
    if (request->page_token().compare(0, kPageTokenTagSize, kPageTokenTag) != 0) {
      return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "page_token: not a next_page_token from ListLevels"));
    }
    after = Path(request->page_token().substr(kPageTokenTagSize));
  }
  // One more than asked tells whether another page follows.
  auto levels = stats_.ListLevels(Path(request->prefix()), after, page_size + 1);
  bool more = levels.size() > page_size;
  if (more) levels.resize(page_size);
  for (const auto& level : levels) LevelToProto(*level, response->add_levels());
  if (more) response->set_next_page_token(absl::StrCat(kPageTokenTag, levels.back()->key().str()));
  return Done(context, grpc::Status::OK);
}

grpc::ServerWriteReactor<pb::WatchEvent>* StatsService::Watch(grpc::CallbackServerContext* context,
                                                              const pb::WatchRequest* request) {
  if (grpc::Status s = Authorize(*context, RpcAccess::kRead); !s.ok()) {
    return new Refused<grpc::ServerWriteReactor<pb::WatchEvent>>(s);
  }
  if (!ValidatePath(request->prefix()).ok()) {
    return new Refused<grpc::ServerWriteReactor<pb::WatchEvent>>(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "prefix: not a valid path"));
  }
  return new WatchStream(origin_, Path(request->prefix()), &watches_, options_.watch);
}

grpc::ServerUnaryReactor* StatsService::GetInfo(grpc::CallbackServerContext* context, const pb::GetInfoRequest*,
                                                pb::GetInfoResponse* response) {
  if (grpc::Status s = Authorize(*context, RpcAccess::kRead); !s.ok()) return Done(context, s);
  *response = info_();
  return Done(context, grpc::Status::OK);
}

grpc::Status StatsService::Authorize(const grpc::CallbackServerContext& context, RpcAccess access) const {
  return options_.authorize ? options_.authorize(context, access) : grpc::Status::OK;
}

void StatsService::EndAllStreams(const grpc::Status& status) {
  sessions_.EndAll(status);
  watches_.EndAll(status);
}

}  // namespace moq_stats::server
