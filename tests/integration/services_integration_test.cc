// End to end: the standard services beside StatsService (health, reflection,
// channelz) and the HTTP admin listener (/healthz, /metrics) answer.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
namespace health = ::grpc::health::v1;
namespace reflection = ::grpc::reflection::v1alpha;
using ::testing::Contains;

class ServicesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }

  grpc::Status Check(const std::string& service, health::HealthCheckResponse* response) {
    auto stub = health::Health::NewStub(daemon_.channel());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    health::HealthCheckRequest request;
    request.set_service(service);
    return stub->Check(&context, request, response);
  }

  // A long grace period keeps the publishers of a refused session running.
  DaemonProcess daemon_{{"--grace=60s"}};
};

TEST_F(ServicesIntegrationTest, HealthCheckIsServingOverallAndForStatsService) {
  for (const std::string service : {"", "moq.stats.v1.StatsService"}) {
    health::HealthCheckResponse response;
    ASSERT_GRPC_OK(Check(service, &response));
    EXPECT_EQ(response.status(), health::HealthCheckResponse::SERVING) << "\"" << service << "\"";
  }
  health::HealthCheckResponse response;
  grpc::Status unknown = Check("no.such.Service", &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(unknown);
}

TEST_F(ServicesIntegrationTest, ReflectionListsStatsHealthAndChannelz) {
  auto stub = reflection::ServerReflection::NewStub(daemon_.channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest list;
  list.set_list_services("*");
  ASSERT_TRUE(stream->Write(list));
  reflection::ServerReflectionRequest file;
  file.set_file_containing_symbol("moq.stats.v1.StatsService");
  ASSERT_TRUE(stream->Write(file));
  ASSERT_TRUE(stream->WritesDone());

  reflection::ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  ASSERT_TRUE(listed.has_list_services_response()) << listed.ShortDebugString();
  std::vector<std::string> names;
  for (const auto& service : listed.list_services_response().service()) names.push_back(service.name());
  EXPECT_THAT(names, Contains("moq.stats.v1.StatsService"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(names, Contains("grpc.channelz.v1.Channelz"));
  EXPECT_THAT(names, Contains("grpc.reflection.v1alpha.ServerReflection"));

  // The contract itself can be fetched.
  reflection::ServerReflectionResponse described;
  ASSERT_TRUE(stream->Read(&described));
  ASSERT_TRUE(described.has_file_descriptor_response()) << described.ShortDebugString();
  ASSERT_GT(described.file_descriptor_response().file_descriptor_proto_size(), 0);
  google::protobuf::FileDescriptorProto proto;
  ASSERT_TRUE(proto.ParseFromString(described.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(proto.name(), "moq/stats/v1/stats.proto");
  EXPECT_EQ(proto.package(), "moq.stats.v1");

  reflection::ServerReflectionResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  ASSERT_GRPC_OK(stream->Finish());
}

TEST_F(ServicesIntegrationTest, HealthzAnswersOk) {
  absl::StatusOr<HttpResponse> response = HttpGet(daemon_.admin_port(), "/healthz");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
  absl::StatusOr<HttpResponse> missing = HttpGet(daemon_.admin_port(), "/no-such-page");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ServicesIntegrationTest, MetricsShowTheTrafficAndTheRefusals) {
  // Two batches, three deltas, two levels with open subscriptions.
  RelayStream relay(daemon_.channel());
  ASSERT_GRPC_OK(relay.Open("metrics-relay", nullptr));
  pb::Batch first;
  first.set_sequence(1);
  *first.add_defines() = MakeDefine(1, "m/a", pb::TIER_EXTERNAL);
  *first.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 100, 1, 1});
  *first.add_deltas() = MakeDelta(1, pb::ROLE_SUBSCRIBER, {1, 0, 2, 0, 200, 2, 1});
  pb::Batch second;
  second.set_sequence(2);
  *second.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 50, 1, 0});
  ASSERT_TRUE(relay.Send(first));
  ASSERT_TRUE(relay.Send(second));
  ASSERT_GRPC_OK(relay.WaitAck(2));
  // Then one refused for an unknown handle and one for its sequence.
  pb::Batch unknown;
  unknown.set_sequence(3);
  *unknown.add_deltas() = MakeDelta(9, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 1, 0, 0});
  ASSERT_TRUE(relay.Send(unknown));
  EXPECT_EQ(relay.WaitAck(3).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  RelayStream again(daemon_.channel());
  ASSERT_GRPC_OK(again.Open("metrics-relay", nullptr));
  pb::Batch stale;
  stale.set_sequence(2);
  ASSERT_TRUE(again.Send(stale));
  EXPECT_EQ(again.WaitAck(2).error_code(), grpc::StatusCode::OUT_OF_RANGE);
  RelayStream attached(daemon_.channel());
  ASSERT_GRPC_OK(attached.Open("metrics-relay", nullptr));

  // The first publisher ticks are immediate but asynchronous: scrape until
  // frames were written (bounded), then check everything.
  std::map<std::string, double> m;
  std::string error;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (;;) {
    auto scraped = ScrapeMetrics(daemon_.admin_port(), &error);
    ASSERT_TRUE(scraped.has_value()) << error;
    m = *scraped;
    // Streams ended by the daemon are forgotten once gRPC is done with them.
    bool settled = m["moq_stats_frames_written_total"] >= 8 && m["moq_stats_session_streams"] == 1;
    if (settled || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(10));
  }

  for (const char* name : {"moq_stats_uptime_seconds",
                           "moq_stats_sessions_open",
                           "moq_stats_sessions_known",
                           "moq_stats_sessions_total",
                           "moq_stats_sessions_resumed_total",
                           "moq_stats_sessions_taken_over_total",
                           "moq_stats_sessions_expired_total",
                           "moq_stats_sessions_closed_total",
                           "moq_stats_session_streams",
                           "moq_stats_watch_streams",
                           "moq_stats_batches_applied_total",
                           "moq_stats_deltas_applied_total",
                           "moq_stats_levels",
                           "moq_stats_levels_freed_total",
                           "moq_stats_publishers_running",
                           "moq_stats_publishers_started_total",
                           "moq_stats_frames_written_total",
                           "moq_stats_level_ticks_total",
                           "moq_stats_tick_seconds_total",
                           "moq_stats_rejected_paths_total",
                           "moq_stats_checkpoint_age_seconds",
                           "moq_stats_checkpoints_written_total",
                           "moq_stats_checkpoint_failures_total"}) {
    EXPECT_TRUE(m.count(name)) << "no " << name << " in /metrics";
  }
  for (const char* reason :
       {"sequence", "batch_size", "handle_limit", "level_limit", "unknown_handle", "invalid_path", "invalid_enum",
        "redefined", "over_close", "release_open", "duplicate", "draining", "taken_over"}) {
    std::string series = std::string("moq_stats_batches_rejected_total{reason=\"") + reason + "\"}";
    ASSERT_TRUE(m.count(series)) << "no " << series << " in /metrics";
    double expected = std::string(reason) == "unknown_handle" || std::string(reason) == "sequence" ? 1 : 0;
    EXPECT_EQ(m[series], expected) << series;
  }
  EXPECT_EQ(m["moq_stats_batches_applied_total"], 2);
  EXPECT_EQ(m["moq_stats_deltas_applied_total"], 3);
  EXPECT_EQ(m["moq_stats_levels"], 2);  // "" and "m"
  EXPECT_EQ(m["moq_stats_publishers_running"], 2);
  EXPECT_EQ(m["moq_stats_publishers_started_total"], 2);
  // Each publisher's first tick writes its four tracks.
  EXPECT_GE(m["moq_stats_frames_written_total"], 8);
  EXPECT_EQ(m["moq_stats_sessions_total"], 1);
  EXPECT_EQ(m["moq_stats_sessions_resumed_total"], 2);
  EXPECT_EQ(m["moq_stats_sessions_known"], 1);
  EXPECT_EQ(m["moq_stats_sessions_open"], 1);
  EXPECT_EQ(m["moq_stats_session_streams"], 1);
  EXPECT_EQ(m["moq_stats_watch_streams"], 0);
  EXPECT_EQ(m["moq_stats_sessions_expired_total"], 0);
  EXPECT_EQ(m["moq_stats_checkpoint_failures_total"], 0);
  EXPECT_GT(m["moq_stats_uptime_seconds"], 0);
  EXPECT_LT(m["moq_stats_uptime_seconds"], 120);

  // GetInfo reports the same counters by the same names, and the settings.
  auto stub = daemon_.NewStub();
  pb::GetInfoResponse info;
  ASSERT_GRPC_OK(GetInfo(*stub, &info));
  EXPECT_EQ(info.counters().at("moq_stats_batches_applied_total"), 2);
  EXPECT_EQ(info.counters().at("moq_stats_batches_rejected_total{reason=\"unknown_handle\"}"), 1);
  EXPECT_EQ(info.config().at("grace"), "1m");
  EXPECT_EQ(info.config().at("listen"), daemon_.target());
  EXPECT_FALSE(info.version().empty());
  EXPECT_GT(info.uptime_seconds(), 0);

  EXPECT_GRPC_OK(attached.Close());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
