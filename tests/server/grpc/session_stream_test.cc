// SessionStream over a real HTTP/2 connection (a unix socket), with the
// registry and the open deadline on simulated time: a stream that sends no
// open is ended at the open timeout exactly, one that opens in time is not,
// and one whose session is evicted for a newcomer ends with
// RESOURCE_EXHAUSTED.

#include "server/grpc/session_stream.h"

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "server/grpc/stats_service.h"
#include "server/sessions/session_registry.h"
#include "tests/server/grpc/test_tools/unix_socket_server.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr absl::Duration kOpenTimeout = absl::Seconds(5);
// Bounds the waits for the connection, never for a timer.
constexpr absl::Duration kWait = absl::Seconds(10);

using Stream = grpc::ClientReaderWriter<pb::SessionRequest, pb::SessionResponse>;

class SessionStreamTest : public ::testing::Test {
 protected:
  explicit SessionStreamTest(uint32_t max_sessions = 1024)
      : registry_(SessionRegistry::Create(f_.stats(), &f_.time().scheduler(), &f_.time().clock(),
                                          RegistryOptions(max_sessions))),
        service_(
            f_.stats(), registry_, &f_.origin(), [] { return pb::GetInfoResponse(); }, ServiceOptions()) {}

  static SessionRegistryOptions RegistryOptions(uint32_t max_sessions) {
    SessionRegistryOptions options;
    options.max_sessions = max_sessions;
    return options;
  }
  StatsService::Options ServiceOptions() {
    StatsService::Options options;
    options.session.scheduler = &f_.time().scheduler();
    options.session.clock = &f_.time().clock();
    options.session.open_timeout = kOpenTimeout;
    return options;
  }

  // Starts a stream and waits until the service holds `streams` of them, so
  // that its deadline is scheduled before simulated time moves.
  std::unique_ptr<Stream> Start(grpc::ClientContext* context, size_t streams) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + 2 * kWait));
    std::unique_ptr<Stream> stream = stub_->Session(context);
    const absl::Time deadline = absl::Now() + kWait;
    while (service_.session_streams() < streams && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_EQ(service_.session_streams(), streams);
    return stream;
  }

  static pb::SessionRequest Open(const std::string& id) {
    pb::SessionRequest request;
    request.mutable_open()->set_session_id(id);
    request.mutable_open()->set_relay("test");
    return request;
  }
  static pb::SessionRequest Batch(uint64_t sequence) {
    pb::SessionRequest request;
    request.mutable_batch()->set_sequence(sequence);
    pb::Define* define = request.mutable_batch()->add_defines();
    define->set_handle(static_cast<uint32_t>(sequence));
    define->set_path("a");
    define->set_tier(pb::TIER_EXTERNAL);
    return request;
  }

  test::StatsFixture f_;
  std::shared_ptr<SessionRegistry> registry_;
  StatsService service_;
  test::UnixSocketServer server_{&service_};
  std::unique_ptr<pb::StatsService::Stub> stub_ = pb::StatsService::NewStub(server_.channel());
};

TEST_F(SessionStreamTest, AStreamThatSendsNoOpenEndsWithDeadlineExceededAtTheOpenTimeout) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = Start(&context, 1);
  f_.Advance(kOpenTimeout - absl::Milliseconds(1));
  EXPECT_EQ(service_.session_open_timeouts(), 0u);
  f_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(service_.session_open_timeouts(), 1u);
  pb::SessionResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("no open within 5s"));
  EXPECT_EQ(registry_->counts().known, 0u);
}

TEST_F(SessionStreamTest, AStreamThatOpensInTimeOutlivesTheOpenTimeout) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = Start(&context, 1);
  f_.Advance(kOpenTimeout - absl::Milliseconds(1));
  ASSERT_TRUE(stream->Write(Open("relay")));
  pb::SessionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_welcome());
  f_.Advance(10 * kOpenTimeout);
  ASSERT_TRUE(stream->Write(Batch(1)));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.ack().applied_sequence(), 1u);
  EXPECT_EQ(service_.session_open_timeouts(), 0u);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
}

class SessionStreamEvictionTest : public SessionStreamTest {
 protected:
  SessionStreamEvictionTest() : SessionStreamTest(/*max_sessions=*/1) {}
};

TEST_F(SessionStreamEvictionTest, AStreamWhoseSessionIsEvictedEndsWithResourceExhausted) {
  grpc::ClientContext silent_context;
  std::unique_ptr<Stream> silent = Start(&silent_context, 1);
  ASSERT_TRUE(silent->Write(Open("silent")));
  pb::SessionResponse response;
  ASSERT_TRUE(silent->Read(&response));
  ASSERT_TRUE(response.has_welcome());

  // The silent session holds nothing: a relay takes its place.
  grpc::ClientContext relay_context;
  std::unique_ptr<Stream> relay = Start(&relay_context, 2);
  ASSERT_TRUE(relay->Write(Open("relay")));
  ASSERT_TRUE(relay->Read(&response));
  ASSERT_TRUE(response.has_welcome());
  EXPECT_FALSE(silent->Read(&response));
  grpc::Status status = silent->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("session \"silent\" evicted to make room for a new one"));

  ASSERT_TRUE(relay->Write(Batch(1)));
  ASSERT_TRUE(relay->Read(&response));
  EXPECT_EQ(response.ack().applied_sequence(), 1u);
  EXPECT_EQ(registry_->counts().evicted, 1u);
  relay->WritesDone();
  EXPECT_FALSE(relay->Read(&response));
  EXPECT_TRUE(relay->Finish().ok());
}

}  // namespace
}  // namespace moq_stats::server
