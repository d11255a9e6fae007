// WatchStream over a real HTTP/2 connection (a unix socket) and an in-memory
// origin: a watcher that stops reading while broadcasts churn is ended with
// RESOURCE_EXHAUSTED once even the coalesced state outgrows its queue, and a
// watcher that reads gets every run's final frames before its end.

#include "server/grpc/watch_stream.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin/origin.h"
#include "server/grpc/stream_set.h"
#include "server/stats/tier.h"
#include "tests/server/grpc/test_tools/unix_socket_server.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(20);

std::vector<std::string> TrackNames() {
  std::vector<std::string> names;
  for (Tier tier : kTiers) {
    for (Role role : kRoles) names.emplace_back(TrackName(tier, role));
  }
  return names;
}

// StatsService with only Watch, on WatchStreams with the given queue limits.
class WatchOnlyService final : public pb::StatsService::CallbackService {
 public:
  WatchOnlyService(Origin* origin, WatchQueueLimits limits) : origin_(origin), limits_(limits) {}
  grpc::ServerWriteReactor<pb::WatchEvent>* Watch(grpc::CallbackServerContext*,
                                                  const pb::WatchRequest* request) override {
    return new WatchStream(origin_, Path(request->prefix()), &streams_, limits_);
  }

 private:
  Origin* const origin_;
  const WatchQueueLimits limits_;
  StreamSet streams_;
};

// A watcher reading on a thread of its own.
class Reader {
 public:
  Reader(pb::StatsService::Stub& stub, const std::string& prefix) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    pb::WatchRequest request;
    request.set_prefix(prefix);
    stream_ = stub.Watch(&context_, request);
  }
  ~Reader() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  // Reads one event on the caller's thread.
  bool ReadOne(pb::WatchEvent* event) { return stream_->Read(event); }
  // Reads everything from now on, on a thread.
  void ReadOnThread() {
    thread_ = std::thread([this] {
      pb::WatchEvent event;
      while (stream_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      absl::MutexLock lock(&mu_);
      ended_ = true;
    });
  }
  // Waits (bounded) until an announcement of `path` arrived or the stream ended.
  bool WaitForAnnounce(const std::string& path) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (ended_) return true;
      for (const pb::WatchEvent& event : events_) {
        if (event.has_announce() && event.announce().path() == path) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), kWait) && !ended_;
  }
  std::vector<pb::WatchEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  grpc::Status Finish() {
    if (thread_.joinable()) thread_.join();
    return stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<pb::WatchEvent>> stream_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<pb::WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

// One run of a broadcast: announced, a frame per track `frames` times (the
// last ones saying "final"), ended.
void PublishRun(Origin& origin, const std::string& path, int run, int frames, size_t padding = 0) {
  auto broadcast = origin.Publish(Path(path), TrackNames());
  ASSERT_TRUE(broadcast.ok()) << broadcast.status();
  for (int i = 0; i < frames; ++i) {
    for (const std::string& name : TrackNames()) {
      std::string payload = absl::StrCat(i + 1 == frames ? "final " : "frame ", run, " ", std::string(padding, '.'));
      (*broadcast)->track(name)->WriteFrame(std::move(payload));
    }
  }
}

class WatchStreamTest : public ::testing::Test {
 protected:
  explicit WatchStreamTest(WatchQueueLimits limits = {}) : service_(&origin_, limits) {}

  Origin origin_;
  WatchOnlyService service_;
  test::UnixSocketServer server_{&service_};
  std::unique_ptr<pb::StatsService::Stub> stub_ = pb::StatsService::NewStub(server_.channel());
};

class WatchStreamLimitsTest : public WatchStreamTest {
 protected:
  WatchStreamLimitsTest() : WatchStreamTest(WatchQueueLimits{.max_ended = 50, .max_bytes = 64 << 20}) {}
};

TEST_F(WatchStreamLimitsTest, AWatcherThatStopsReadingEndsWithResourceExhaustedWhenMoreBroadcastsEndUnsent) {
  auto ready = origin_.Publish(Path("ready"), TrackNames());
  ASSERT_TRUE(ready.ok());
  Reader watcher(*stub_, "");
  pb::WatchEvent first;
  ASSERT_TRUE(watcher.ReadOne(&first));  // the stream is there; now it stops reading
  ASSERT_EQ(first.announce().path(), "ready");

  // 1,000 broadcasts with 4 KiB per run, far more than HTTP/2 flow control
  // lets through unread, and far more ends than the queue may hold.
  for (int i = 0; i < 1000; ++i) PublishRun(origin_, absl::StrCat("b", i), i, 1, 1024);

  // What it reads now is whole runs, in order, then the status.
  watcher.ReadOnThread();
  grpc::Status status = watcher.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("the watcher fell behind"));
  EXPECT_THAT(status.error_message(), HasSubstr("(limit 50)"));
  std::map<std::string, int> state;  // 1 announced, 2 ended
  for (const pb::WatchEvent& event : watcher.events()) {
    const std::string& path = event.has_announce() ? event.announce().path() : event.frame().path();
    if (event.has_announce() && event.announce().active()) {
      EXPECT_NE(state[path], 1) << path;
      state[path] = 1;
    } else if (event.has_announce()) {
      EXPECT_EQ(state[path], 1) << path;
      state[path] = 2;
    } else {
      EXPECT_EQ(state[path], 1) << "a frame outside a run of " << path;
    }
  }
  EXPECT_LT(state.size(), 1000u);
}

TEST_F(WatchStreamTest, AReadingWatcherGetsEveryRunsFinalFramesBeforeItsEnd) {
  auto ready = origin_.Publish(Path("ready"), TrackNames());
  ASSERT_TRUE(ready.ok());
  Reader watcher(*stub_, "");
  watcher.ReadOnThread();
  ASSERT_TRUE(watcher.WaitForAnnounce("ready"));

  constexpr int kRuns = 300;
  for (int run = 0; run < kRuns; ++run) PublishRun(origin_, "p", run, 3);
  auto done = origin_.Publish(Path("done"), TrackNames());
  ASSERT_TRUE(done.ok());
  ASSERT_TRUE(watcher.WaitForAnnounce("done"));

  // Every run the watcher saw: frames of that run only, the last of each
  // track its final one, then the end. Runs it was not told of in time may
  // be skipped, never the last.
  int runs_seen = 0;
  int run = -1;
  std::map<std::string, std::string> last;
  const std::vector<pb::WatchEvent> events = watcher.events();
  for (const pb::WatchEvent& event : events) {
    if (event.has_frame() && event.frame().path() == "p") {
      ASSERT_GE(run, 0) << "a frame before the announcement";
      if (last.empty()) run = std::stoi(event.frame().payload().substr(6));
      EXPECT_TRUE(absl::StrContains(event.frame().payload(), absl::StrCat(" ", run, " ")))
          << event.frame().payload() << " in run " << run;
      last[event.frame().track()] = event.frame().payload();
    } else if (event.has_announce() && event.announce().path() == "p") {
      if (event.announce().active()) {
        run = 0;
        last.clear();
        continue;
      }
      ++runs_seen;
      EXPECT_EQ(last.size(), 4u) << "run " << run;
      for (const auto& [track, payload] : last) {
        EXPECT_TRUE(absl::StartsWith(payload, "final ")) << track << ": " << payload;
      }
    }
  }
  EXPECT_GE(runs_seen, 1);
  EXPECT_LE(runs_seen, kRuns);
  EXPECT_EQ(run, kRuns - 1) << "the last run seen is not the last run";
}

}  // namespace
}  // namespace moq_stats::server
