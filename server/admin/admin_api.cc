#include "server/admin/admin_api.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json_string.h"
#include "common/path.h"
#include "server/admin/page_assets.h"
#include "server/grpc/proto_convert.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;

constexpr char kJson[] = "application/json";
constexpr char kLevelsPath[] = "/api/v1/levels";
constexpr char kLevelPrefix[] = "/api/v1/levels/";
// As ListLevels: page sizes, and a token is "after:" and the last key.
constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;
constexpr char kPageTokenTag[] = "after:";

AdminReply JsonReply(int status, std::string body) {
  AdminReply reply;
  reply.status = status;
  reply.content_type = kJson;
  reply.body = std::move(body);
  reply.body.push_back('\n');
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

// {"error":{"code":..,"status":"..","message":".."}}, as Google's JSON APIs
// answer errors.
AdminReply ErrorReply(const absl::Status& status) {
  int code = 500;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = 400;
      break;
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      code = 503;
      break;
    default:
      break;
  }
  std::string body = absl::StrCat("{\"error\":{\"code\":", code, ",\"status\":");
  AppendJsonString(absl::StatusCodeToString(status.code()), &body);
  body.append(",\"message\":");
  AppendJsonString(std::string_view(status.message().data(), status.message().size()), &body);
  body.append("}}");
  return JsonReply(code, std::move(body));
}

AdminReply MessageReply(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string body;
  auto status = google::protobuf::util::MessageToJsonString(message, &body, options);
  if (!status.ok()) return ErrorReply(absl::InternalError(std::string(status.message())));
  return JsonReply(200, std::move(body));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space in a query); INVALID_ARGUMENT
// for a malformed escape.
absl::StatusOr<std::string> PercentDecode(std::string_view in, bool query) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && query) {
      out.push_back(' ');
    } else if (in[i] != '%') {
      out.push_back(in[i]);
    } else {
      const int high = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      const int low = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (high < 0 || low < 0) return absl::InvalidArgumentError("malformed percent-encoding");
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

// The query's parameters among `known`; INVALID_ARGUMENT for another one,
// one given twice or a malformed escape.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(const std::string& query,
                                                                            std::vector<std::string_view> known) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> name = PercentDecode(std::string_view(kv.first.data(), kv.first.size()), true);
    absl::StatusOr<std::string> value = PercentDecode(std::string_view(kv.second.data(), kv.second.size()), true);
    if (!name.ok() || !value.ok()) return absl::InvalidArgumentError(absl::StrCat("query: malformed \"", part, "\""));
    if (std::find(known.begin(), known.end(), *name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("query: unknown parameter \"", *name, "\""));
    }
    for (const auto& [seen, unused] : params) {
      if (seen == *name) return absl::InvalidArgumentError(absl::StrCat("query: \"", *name, "\" given twice"));
    }
    params.emplace_back(*std::move(name), *std::move(value));
  }
  return params;
}

// The `prefix` parameter, validated as ListLevels and Watch do.
absl::StatusOr<Path> PrefixParam(const std::string& value) {
  if (absl::Status s = ValidatePath(value); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("prefix: ", s.message()));
  }
  return Path(value);
}

}  // namespace

AdminApi::AdminApi(Stats stats, Origin* origin, InfoFn info, Options options)
    : stats_(std::move(stats)), origin_(origin), info_(std::move(info)), options_(options) {}

std::optional<AdminReply> AdminApi::Route(const AdminRequest& request) {
  if (request.path == kLevelsPath) return Levels(request);
  if (absl::StartsWith(request.path, kLevelPrefix)) {
    absl::StatusOr<std::string> key =
        PercentDecode(std::string_view(request.path).substr(sizeof(kLevelPrefix) - 1), false);
    if (!key.ok()) return ErrorReply(absl::InvalidArgumentError(absl::StrCat("key: ", key.status().message())));
    return Level(*key);
  }
  if (request.path == "/api/v1/info") {
    if (!info_) return ErrorReply(absl::NotFoundError("no info"));
    return MessageReply(info_());
  }
  if (request.path == "/api/v1/watch") return Watch(request);
  if (absl::StartsWith(request.path, "/api/")) {
    return ErrorReply(absl::NotFoundError(absl::StrCat("no API path \"", request.path, "\"")));
  }
  const PageAsset* asset = FindPageAsset(request.path == "/index.html" ? "/" : request.path);
  if (asset == nullptr) return std::nullopt;
  AdminReply reply;
  reply.content_type = std::string(asset->content_type);
  reply.body = std::string(asset->body);
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

AdminReply AdminApi::Levels(const AdminRequest& request) const {
  auto params = ParseQuery(request.query, {"prefix", "page_size", "page_token"});
  if (!params.ok()) return ErrorReply(params.status());
  Path prefix;
  uint32_t page_size = kDefaultPageSize;
  std::optional<Path> after;
  for (const auto& [name, value] : *params) {
    if (name == "prefix") {
      absl::StatusOr<Path> parsed = PrefixParam(value);
      if (!parsed.ok()) return ErrorReply(parsed.status());
      prefix = *parsed;
    } else if (name == "page_size") {
      if (!absl::SimpleAtoi(value, &page_size)) {
        return ErrorReply(absl::InvalidArgumentError("page_size: not a non-negative integer"));
      }
      page_size = page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
    } else if (!value.empty()) {
      if (!absl::StartsWith(value, kPageTokenTag)) {
        return ErrorReply(absl::InvalidArgumentError("page_token: not a nextPageToken from this API"));
      }
      after = Path(std::string_view(value).substr(sizeof(kPageTokenTag) - 1));
    }
  }
  // One more than asked tells whether another page follows.
  auto levels = stats_.ListLevels(prefix, after, page_size + 1);
  const bool more = levels.size() > page_size;
  if (more) levels.resize(page_size);
  pb::ListLevelsResponse response;
  for (const auto& level : levels) LevelToProto(*level, response.add_levels());
  if (more) response.set_next_page_token(absl::StrCat(kPageTokenTag, levels.back()->key().str()));
  return MessageReply(response);
}

AdminReply AdminApi::Level(const std::string& key) const {
  if (absl::Status s = ValidatePath(key); !s.ok()) {
    return ErrorReply(absl::InvalidArgumentError(absl::StrCat("key: ", s.message())));
  }
  std::shared_ptr<const server::Level> level = stats_.level(Path(key));
  if (!level) return ErrorReply(absl::NotFoundError(absl::StrCat("no level \"", Path(key).str(), "\"")));
  pb::GetLevelResponse response;
  LevelToProto(*level, response.mutable_level());
  return MessageReply(response);
}

AdminReply AdminApi::Watch(const AdminRequest& request) {
  auto params = ParseQuery(request.query, {"prefix"});
  if (!params.ok()) return ErrorReply(params.status());
  Path prefix;
  for (const auto& [name, value] : *params) {
    absl::StatusOr<Path> parsed = PrefixParam(value);
    if (!parsed.ok()) return ErrorReply(parsed.status());
    prefix = *parsed;
  }
  if (request.head) {
    AdminReply reply;
    reply.content_type = "text/event-stream";
    return reply;
  }
  // Takes a slot, released when the stream ends.
  if (streams_->fetch_add(1, std::memory_order_relaxed) >= options_.max_streams) {
    streams_->fetch_sub(1, std::memory_order_relaxed);
    return ErrorReply(
        absl::UnavailableError(absl::StrCat("too many watch streams open (", options_.max_streams, "); retry later")));
  }
  std::shared_ptr<void> slot(nullptr, [streams = streams_](void*) { streams->fetch_sub(1); });
  AdminReply reply;
  reply.stream = [origin = origin_, prefix, watch = options_.watch,
                  slot = std::move(slot)](boost::asio::ip::tcp::socket socket) mutable {
    SseWatch::Start(std::move(socket), origin, prefix, watch, std::move(slot));
  };
  return reply;
}

}  // namespace moq_stats::server
