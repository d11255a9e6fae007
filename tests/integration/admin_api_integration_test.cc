// End to end: the admin listener's JSON API mirrors ListLevels, GetLevel and
// GetInfo field for field, answers bad input with JSON errors, and streams
// the stats frames live as Server-Sent Events, with a cap on the streams
// open at once.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/sse_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using google::protobuf::util::JsonStringToMessage;
using google::protobuf::util::MessageDifferencer;

// The streams open at once (AdminApi::Options::max_streams).
constexpr int kMaxStreams = 16;

// Parses a JSON body into `out`; a failure names the body.
::testing::AssertionResult FromJson(const std::string& body, google::protobuf::Message* out) {
  auto status = JsonStringToMessage(body, out);
  if (!status.ok()) return ::testing::AssertionFailure() << status.message() << " in: " << body;
  return ::testing::AssertionSuccess();
}

// Whether `publishing` changes between two reads depends on the publisher's
// tick; the keys and counts are what must match.
void ClearPublishing(pb::ListLevelsResponse* response) {
  for (pb::Level& level : *response->mutable_levels()) level.clear_publishing();
}

// An error answer: {"error":{"code":N,"status":"...","message":"..."}}.
::testing::AssertionResult IsJsonError(const absl::StatusOr<HttpResponse>& response, int code,
                                       const std::string& status) {
  if (!response.ok()) return ::testing::AssertionFailure() << response.status();
  google::protobuf::Struct body;
  if (!JsonStringToMessage(response->body, &body).ok() || !body.fields().contains("error")) {
    return ::testing::AssertionFailure() << "not a JSON error: " << response->body;
  }
  const auto& error = body.fields().at("error").struct_value().fields();
  if (response->status != code || error.at("code").number_value() != code ||
      error.at("status").string_value() != status || error.at("message").string_value().empty()) {
    return ::testing::AssertionFailure() << response->status << " " << response->body;
  }
  return ::testing::AssertionSuccess();
}

// The fields of a "frame" event the tests look at.
struct SseFrame {
  std::string level, tier, role;
  double bytes = -1;
  double subscriptions = -1;
};
std::optional<SseFrame> ParseFrame(const google::protobuf::Struct& record) {
  if (!record.fields().contains("frame")) return std::nullopt;
  const auto& payload = record.fields().at("frame").struct_value().fields().at("payload").struct_value().fields();
  SseFrame frame;
  frame.level = payload.at("level").string_value();
  frame.tier = payload.at("tier").string_value();
  frame.role = payload.at("role").string_value();
  frame.bytes = payload.at("bytes").number_value();
  frame.subscriptions = payload.at("subscriptions").number_value();
  return frame;
}

class AdminApiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start());
    relay_ = std::make_unique<RelayStream>(daemon_.channel());
    ASSERT_GRPC_OK(relay_->Open("api-relay", nullptr));
    pb::Batch batch;
    batch.set_sequence(1);
    *batch.add_defines() = MakeDefine(1, "live/cam1", pb::TIER_EXTERNAL);
    *batch.add_defines() = MakeDefine(2, "live/cam2", pb::TIER_INTERNAL);
    *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 1000, 10, 1});
    *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {0, 0, 2, 0, 500, 5, 1});
    ASSERT_TRUE(relay_->Send(batch));
    ASSERT_GRPC_OK(relay_->WaitAck(1));
  }

  absl::StatusOr<HttpResponse> Get(const std::string& target) { return HttpGet(daemon_.admin_port(), target); }

  DaemonProcess daemon_{{"--stats-levels=2"}};
  std::unique_ptr<RelayStream> relay_;
};

TEST_F(AdminApiIntegrationTest, LevelsAndLevelAreTheGrpcAnswersInTheirJsonMapping) {
  auto stub = daemon_.NewStub();
  grpc::ClientContext context;
  pb::ListLevelsRequest request;
  request.set_prefix("live");
  pb::ListLevelsResponse expected;
  ASSERT_GRPC_OK(stub->ListLevels(&context, request, &expected));
  ASSERT_EQ(expected.levels_size(), 3);  // live, live/cam1, live/cam2

  absl::StatusOr<HttpResponse> http = Get("/api/v1/levels?prefix=live");
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_EQ(http->status, 200) << http->body;
  // The gRPC JSON mapping's names, zeros included.
  EXPECT_NE(http->body.find("\"externalPublisher\""), std::string::npos) << http->body;
  EXPECT_NE(http->body.find("\"subscriptionsClosed\":\"0\""), std::string::npos) << http->body;
  pb::ListLevelsResponse got;
  ASSERT_TRUE(FromJson(http->body, &got));
  ClearPublishing(&expected);
  ClearPublishing(&got);
  EXPECT_TRUE(MessageDifferencer::Equals(got, expected)) << got.DebugString() << "\nvs\n" << expected.DebugString();

  // Pages, as ListLevels pages.
  http = Get("/api/v1/levels?prefix=live&page_size=2");
  ASSERT_TRUE(http.ok() && http->status == 200);
  pb::ListLevelsResponse first;
  ASSERT_TRUE(FromJson(http->body, &first));
  ASSERT_EQ(first.levels_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  http = Get("/api/v1/levels?prefix=live&page_size=2&page_token=" + first.next_page_token());
  ASSERT_TRUE(http.ok() && http->status == 200);
  pb::ListLevelsResponse second;
  ASSERT_TRUE(FromJson(http->body, &second));
  ASSERT_EQ(second.levels_size(), 1);
  EXPECT_EQ(second.levels(0).key(), "live/cam2");
  EXPECT_TRUE(second.next_page_token().empty());

  // One level, with its key as path segments or escaped.
  for (const std::string target : {"/api/v1/levels/live/cam1", "/api/v1/levels/live%2Fcam1"}) {
    http = Get(target);
    ASSERT_TRUE(http.ok() && http->status == 200) << target;
    pb::GetLevelResponse level;
    ASSERT_TRUE(FromJson(http->body, &level));
    EXPECT_EQ(level.level().key(), "live/cam1");
    EXPECT_EQ(level.level().external_publisher().bytes(), 1000u);
    EXPECT_EQ(level.level().external_publisher().broadcasts(), 1u);
    EXPECT_EQ(level.level().internal_subscriber().bytes(), 0u);
  }

  // GetInfo, as the gRPC call answers it.
  grpc::ClientContext info_context;
  pb::GetInfoResponse info;
  ASSERT_GRPC_OK(stub->GetInfo(&info_context, pb::GetInfoRequest(), &info));
  http = Get("/api/v1/info");
  ASSERT_TRUE(http.ok() && http->status == 200);
  pb::GetInfoResponse got_info;
  ASSERT_TRUE(FromJson(http->body, &got_info));
  EXPECT_EQ(got_info.version(), info.version());
  EXPECT_EQ(got_info.config_size(), info.config_size());
  for (const auto& [name, value] : info.config()) EXPECT_EQ(got_info.config().at(name), value) << name;
  EXPECT_EQ(got_info.counters().at("moq_stats_sessions_open"), 1.0);
}

TEST_F(AdminApiIntegrationTest, BadInputGetsAJsonError) {
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels/nope"), 404, "NOT_FOUND"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels/live/cam1/deeper"), 404, "NOT_FOUND"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/nothing"), 404, "NOT_FOUND"));
  // Not UTF-8, a malformed escape, an unknown or repeated parameter, a bad
  // page size or token.
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?prefix=%FF"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?prefix=a%zz"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?prefx=live"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?prefix=a&prefix=b"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?page_size=-1"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels?page_token=xyz"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/levels/%FF"), 400, "INVALID_ARGUMENT"));
  EXPECT_TRUE(IsJsonError(Get("/api/v1/watch?prefix=%FF"), 400, "INVALID_ARGUMENT"));
  // The listener's own paths are unchanged, and it still serves.
  absl::StatusOr<HttpResponse> health = Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  absl::StatusOr<HttpResponse> unknown = Get("/nothing-here");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(AdminApiIntegrationTest, WatchStreamsEveryLevelThenItsChangesLive) {
  absl::StatusOr<std::unique_ptr<SseClient>> watch = SseClient::Open(daemon_.admin_port(), "/api/v1/watch?prefix=");
  ASSERT_TRUE(watch.ok()) << watch.status();
  SseClient& sse = **watch;
  ASSERT_EQ(sse.status(), 200);
  EXPECT_NE(sse.header().find("content-type: text/event-stream"), std::string::npos) << sse.header();

  auto cam1_bytes = [](double bytes) {
    return [bytes](const google::protobuf::Struct& record) {
      std::optional<SseFrame> frame = ParseFrame(record);
      return frame && frame->level == "live/cam1" && frame->tier == "external" && frame->role == "publisher" &&
             frame->bytes == bytes;
    };
  };
  // What was counted before the stream opened, with its announcement first.
  bool announced = false;
  ASSERT_TRUE(sse.WaitForRecord(
      [&](const google::protobuf::Struct& record) {
        if (record.fields().contains("announce") &&
            record.fields().at("announce").struct_value().fields().at("active").bool_value()) {
          announced = true;
        }
        return cam1_bytes(1000)(record);
      },
      absl::Seconds(10)));
  EXPECT_TRUE(announced);

  pb::Batch batch;
  batch.set_sequence(2);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 2000, 20, 2});
  ASSERT_TRUE(relay_->Send(batch));
  ASSERT_GRPC_OK(relay_->WaitAck(2));
  EXPECT_TRUE(sse.WaitForRecord(cam1_bytes(3000), absl::Seconds(10)));

  // A prefix narrows the stream to the broadcasts under it.
  absl::StatusOr<std::unique_ptr<SseClient>> narrow =
      SseClient::Open(daemon_.admin_port(), "/api/v1/watch?prefix=.stats/prefix/live/cam2");
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  std::vector<std::string> levels;
  ASSERT_TRUE((*narrow)->WaitForRecord(
      [&](const google::protobuf::Struct& record) {
        std::optional<SseFrame> frame = ParseFrame(record);
        if (frame) levels.push_back(frame->level);
        return frame && frame->role == "subscriber" && frame->tier == "internal" && frame->bytes == 500;
      },
      absl::Seconds(10)));
  for (const std::string& level : levels) EXPECT_EQ(level, "live/cam2");
}

TEST_F(AdminApiIntegrationTest, StreamsBeyondTheCapGet503UntilOneCloses) {
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < kMaxStreams; ++i) {
    absl::StatusOr<std::unique_ptr<SseClient>> watch = SseClient::Open(daemon_.admin_port(), "/api/v1/watch");
    ASSERT_TRUE(watch.ok()) << watch.status();
    ASSERT_EQ((*watch)->status(), 200) << "stream " << i;
    open.push_back(*std::move(watch));
  }
  absl::StatusOr<std::unique_ptr<SseClient>> refused = SseClient::Open(daemon_.admin_port(), "/api/v1/watch");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)->status(), 503);
  HttpResponse body{(*refused)->status(), (*refused)->ReadBody()};
  EXPECT_TRUE(IsJsonError(body, 503, "UNAVAILABLE"));
  // The JSON API still answers meanwhile.
  absl::StatusOr<HttpResponse> level = Get("/api/v1/levels/live");
  ASSERT_TRUE(level.ok());
  EXPECT_EQ(level->status, 200);

  // Once a client goes, its slot is free again.
  open.pop_back();
  int status = 0;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(5); absl::Now() < deadline && status != 200;) {
    absl::StatusOr<std::unique_ptr<SseClient>> again = SseClient::Open(daemon_.admin_port(), "/api/v1/watch");
    ASSERT_TRUE(again.ok()) << again.status();
    status = (*again)->status();
    if (status == 200) open.push_back(*std::move(again));
    if (status != 200) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
