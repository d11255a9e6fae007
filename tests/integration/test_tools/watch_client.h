#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_WATCH_CLIENT_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_WATCH_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace integration {

// A reader of one StatsService/Watch stream: a thread of its own collects
// every event, and the test waits, bounded, for what it expects to arrive.
//
//   WatchClient watch(daemon.channel(), ".stats");
//   ASSERT_TRUE(watch.WaitFor([](const auto& events) { ... }, absl::Seconds(5)));
//
// Use from one thread; the destructor cancels the stream. Not copyable: it
// owns the call.
class WatchClient {
 public:
  using Events = std::vector<moq::stats::v1::WatchEvent>;

  WatchClient(std::shared_ptr<grpc::Channel> channel, const std::string& prefix,
              absl::Duration lifetime = absl::Seconds(60));
  ~WatchClient();
  WatchClient(const WatchClient&) = delete;
  WatchClient& operator=(const WatchClient&) = delete;

  // Waits until `done(every event so far)` holds (checked at each event) or
  // the stream ends or `timeout` passes; whether it held.
  bool WaitFor(const std::function<bool(const Events&)>& done, absl::Duration timeout);

  // Every event so far, in order.
  Events events() const;

  // Cancels the stream and returns its status once it is torn down.
  grpc::Status Cancel();

  // The status once the daemon ended the stream, waiting at most `timeout`;
  // DEADLINE_EXCEEDED (and the stream cancelled) when it did not end.
  grpc::Status WaitEnd(absl::Duration timeout);

 private:
  void ReadLoop();

  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;
  grpc::ClientContext context_;
  moq::stats::v1::WatchRequest request_;
  std::unique_ptr<grpc::ClientReader<moq::stats::v1::WatchEvent>> stream_;
  std::thread reader_;
  bool finished_ = false;
  grpc::Status status_;

  mutable absl::Mutex mu_;
  Events events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

// A Watch stream that its client does not read (a watcher that stopped
// reading or whose network stalled): whatever the daemon writes piles up in
// flow control. ReadToEnd later reads (and drops) what arrived, up to the end
// of the stream.
//
// Use from one thread; the destructor cancels the stream. Not copyable: it
// owns the call.
class UnreadWatch {
 public:
  UnreadWatch(std::shared_ptr<grpc::Channel> channel, const std::string& prefix,
              absl::Duration lifetime = absl::Seconds(120));
  ~UnreadWatch();
  UnreadWatch(const UnreadWatch&) = delete;
  UnreadWatch& operator=(const UnreadWatch&) = delete;

  struct Outcome {
    bool ended = false;  // the daemon ended the stream (else it was cancelled)
    grpc::Status status;
    size_t events = 0;  // events read
  };
  // Reads every event until the stream ends, or no event came for `quiet`,
  // or `timeout` passed; a stream still open then is cancelled. Call once.
  Outcome ReadToEnd(absl::Duration quiet, absl::Duration timeout);

 private:
  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<moq::stats::v1::WatchEvent>> stream_;
  bool finished_ = false;
};

// The frames of `events` that came before the Announce active=false of
// `path` (all of them when it has not ended), and whether that end came.
struct BroadcastHistory {
  std::vector<moq::stats::v1::Frame> frames;  // in order of arrival
  bool announced = false;
  bool ended = false;
};
BroadcastHistory HistoryOf(const WatchClient::Events& events, const std::string& path);

// A frame's counters, parsed from its JSON; ok is false when it is not JSON.
struct FrameCounts {
  bool ok = false;
  moq::stats::v1::Snapshot snapshot;
};
FrameCounts ParseFrameCounts(const std::string& payload);

// One line per event ("+path", "-path", "path track #seq payload"), for
// failure messages.
std::string Summarize(const WatchClient::Events& events);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_WATCH_CLIENT_H_
