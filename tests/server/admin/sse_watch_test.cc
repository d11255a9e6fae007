// SseWatch behind the admin listener's route hook, over a real socket: the
// origin's broadcasts as Server-Sent Events in order, heartbeats while idle,
// and the stream dropped (its slot released) when its client stops reading
// or its queue overflows. Timing options are shortened; every wait is
// bounded.

#include "server/admin/sse_watch.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/admin/admin_http_server.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/sse_client.h"

namespace moq_stats::server {
namespace {

using integration::SseClient;
using integration::SseEvent;

class SseWatchTest : public ::testing::Test {
 protected:
  void StartServer(SseWatchOptions options) {
    options_ = options;
    AdminHttpServer::Handlers handlers;
    handlers.routes = [this](const AdminRequest& request) -> std::optional<AdminReply> {
      if (request.path == "/plain") {
        AdminReply reply;
        reply.content_type = "application/json";
        reply.body = "{}";
        return reply;
      }
      if (request.path == "/throw") throw std::runtime_error("boom");
      if (request.path != "/watch") return std::nullopt;
      streams_.fetch_add(1);
      std::shared_ptr<void> slot(nullptr, [this](void*) { streams_.fetch_sub(1); });
      AdminReply reply;
      reply.stream = [this, slot = std::move(slot)](boost::asio::ip::tcp::socket socket) mutable {
        SseWatch::Start(std::move(socket), &origin_, Path(".stats"), options_, std::move(slot));
      };
      return reply;
    };
    absl::StatusOr<std::unique_ptr<AdminHttpServer>> server = AdminHttpServer::Start("127.0.0.1:0", handlers);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Waits until no stream holds a slot; false after 10 s.
  bool AllStreamsReleased() {
    for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
      if (streams_.load() == 0) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  Origin origin_;
  SseWatchOptions options_;
  std::atomic<int> streams_{0};
  std::unique_ptr<AdminHttpServer> server_;  // last: destroyed first
};

TEST_F(SseWatchTest, RoutesAnswerBesideTheListenersOwnPaths) {
  StartServer({});
  absl::StatusOr<integration::HttpResponse> plain = integration::HttpGet(server_->port(), "/plain?x=1");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "{}");
  absl::StatusOr<integration::HttpResponse> thrown = integration::HttpGet(server_->port(), "/throw");
  ASSERT_TRUE(thrown.ok()) << thrown.status();
  EXPECT_EQ(thrown->status, 500);
  absl::StatusOr<integration::HttpResponse> unknown = integration::HttpGet(server_->port(), "/elsewhere");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(SseWatchTest, BroadcastsComeAsAnnounceThenFramesThenEnd) {
  SseWatchOptions options;
  options.flush_interval = absl::Milliseconds(10);
  StartServer(options);
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast =
      origin_.Publish(Path(".stats/prefix/a/n"), {"publisher.json", "subscriber.json"});
  ASSERT_TRUE(broadcast.ok());
  (*broadcast)->track("publisher.json")->WriteFrame(R"({"level":"a","bytes":1})");

  absl::StatusOr<std::unique_ptr<SseClient>> client = SseClient::Open(server_->port(), "/watch");
  ASSERT_TRUE(client.ok()) << client.status();
  SseClient& sse = **client;
  EXPECT_EQ(sse.status(), 200);
  EXPECT_NE(sse.header().find("text/event-stream"), std::string::npos);
  // The raw event: a "watch" event whose data is a JSON array of records.
  std::optional<SseEvent> event = sse.Next(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "watch");
  EXPECT_EQ(event->data, R"([{"announce":{"path":".stats/prefix/a/n","active":true}},)"
                         R"({"frame":{"path":".stats/prefix/a/n","track":"publisher.json","sequence":0,)"
                         R"("payload":{"level":"a","bytes":1}}}])");

  (*broadcast)->track("subscriber.json")->WriteFrame(R"({"level":"a","bytes":2})");
  std::optional<google::protobuf::Struct> record = sse.NextRecord(absl::Seconds(5));
  ASSERT_TRUE(record.has_value());
  const auto& frame = record->fields().at("frame").struct_value().fields();
  EXPECT_EQ(frame.at("track").string_value(), "subscriber.json");
  EXPECT_EQ(frame.at("payload").struct_value().fields().at("bytes").number_value(), 2);
  broadcast->reset();
  record = sse.NextRecord(absl::Seconds(5));
  ASSERT_TRUE(record.has_value());
  const auto& announce = record->fields().at("announce").struct_value().fields();
  EXPECT_EQ(announce.at("path").string_value(), ".stats/prefix/a/n");
  EXPECT_FALSE(announce.at("active").bool_value());
}

TEST_F(SseWatchTest, IdleStreamGetsHeartbeats) {
  SseWatchOptions options;
  options.flush_interval = absl::Milliseconds(10);
  options.heartbeat = absl::Milliseconds(50);
  StartServer(options);
  absl::StatusOr<std::unique_ptr<SseClient>> client = SseClient::Open(server_->port(), "/watch");
  ASSERT_TRUE(client.ok()) << client.status();
  // Nothing is published: only comments come.
  EXPECT_FALSE((*client)->Next(absl::Milliseconds(500)).has_value());
  EXPECT_GE((*client)->comments(), 2);
  EXPECT_FALSE((*client)->ended());
}

TEST_F(SseWatchTest, ClientThatStopsReadingIsDropped) {
  SseWatchOptions options;
  options.flush_interval = absl::Milliseconds(10);
  options.write_timeout = absl::Milliseconds(200);
  StartServer(options);
  absl::StatusOr<std::unique_ptr<SseClient>> client = SseClient::OpenUnread(server_->port(), "/watch", 4096);
  ASSERT_TRUE(client.ok()) << client.status();
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); streams_.load() == 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(streams_.load(), 1);
  // Broadcasts with large frames fill the socket's buffers, then the write
  // stalls.
  const std::string big = absl::StrCat(R"({"pad":")", std::string(64 * 1024, 'x'), R"("})");
  std::vector<std::unique_ptr<BroadcastProducer>> broadcasts;
  for (int i = 0; i < 200 && streams_.load() > 0; ++i) {
    absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast =
        origin_.Publish(Path(absl::StrCat(".stats/prefix/l", i, "/n")), {"publisher.json"});
    ASSERT_TRUE(broadcast.ok());
    (*broadcast)->track("publisher.json")->WriteFrame(big);
    broadcasts.push_back(*std::move(broadcast));
  }
  EXPECT_TRUE(AllStreamsReleased());
  // More than the socket buffers could take was queued before the drop.
  EXPECT_GE(broadcasts.size(), 10u);
}

TEST_F(SseWatchTest, QueueOverflowDropsTheStream) {
  SseWatchOptions options;
  options.flush_interval = absl::Milliseconds(10);
  options.limits.max_bytes = 4096;
  StartServer(options);
  absl::StatusOr<std::unique_ptr<SseClient>> client = SseClient::Open(server_->port(), "/watch");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ(streams_.load(), 1);
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast =
      origin_.Publish(Path(".stats/prefix/a/n"), {"publisher.json"});
  ASSERT_TRUE(broadcast.ok());
  (*broadcast)->track("publisher.json")->WriteFrame(std::string(8192, 'x'));
  // The frame alone is over the limit: nothing of it is written.
  EXPECT_TRUE(AllStreamsReleased());
  EXPECT_TRUE((*client)->WaitEnded(absl::Seconds(5)));
}

TEST_F(SseWatchTest, DestroyingTheServerEndsOpenStreams) {
  StartServer({});
  absl::StatusOr<std::unique_ptr<SseClient>> client = SseClient::Open(server_->port(), "/watch");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ(streams_.load(), 1);
  const absl::Time start = absl::Now();
  server_.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(streams_.load(), 0);
  EXPECT_TRUE((*client)->WaitEnded(absl::Seconds(5)));
}

}  // namespace
}  // namespace moq_stats::server
