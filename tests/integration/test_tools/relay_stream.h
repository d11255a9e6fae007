#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_RELAY_STREAM_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_RELAY_STREAM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace integration {

// A minimal relay-side client of one StatsService/Session stream, on the
// sync API: the test's thread writes, a thread of the stream reads the
// responses into a queue, so every wait for a response is bounded.
//
//   RelayStream relay(daemon.channel());
//   auto welcome = relay.Open("relay-1");
//   relay.Send(batch);                 // sequence 1
//   ASSERT_TRUE(relay.WaitAck(1).ok());
//   relay.Close();
//
// A stream lives at most `lifetime` (its gRPC deadline), as a backstop.
// Use from one thread; the destructor cancels a stream still open. Not
// copyable: it owns the call.
class RelayStream {
 public:
  explicit RelayStream(std::shared_ptr<grpc::Channel> channel, absl::Duration lifetime = absl::Seconds(60));
  ~RelayStream();
  RelayStream(const RelayStream&) = delete;
  RelayStream& operator=(const RelayStream&) = delete;

  // Starts the stream, sends Open and waits for the Welcome. When the
  // stream ends instead, the daemon's status (OK when it ended cleanly).
  grpc::Status Open(const std::string& session_id, moq::stats::v1::Welcome* welcome,
                    const std::string& relay = "integration-relay", absl::Duration timeout = absl::Seconds(5));

  // Starts the stream without sending anything (to send a bad first request
  // with Write).
  void Start();

  // Writes one request / one batch; false when the stream is broken.
  bool Write(const moq::stats::v1::SessionRequest& request);
  bool Send(const moq::stats::v1::Batch& batch);

  // The next response in order, waiting at most `timeout`; nullopt on
  // timeout or when the stream ended.
  std::optional<moq::stats::v1::SessionResponse> ReadResponse(absl::Duration timeout = absl::Seconds(5));

  // The next response if it is an Ack (nullopt on timeout, at the end of the
  // stream, or when the next response is something else, which is dropped).
  std::optional<moq::stats::v1::Ack> ReadAck(absl::Duration timeout = absl::Seconds(5));

  // Waits for an Ack of `sequence` or above. OK then;
  // DEADLINE_EXCEEDED on timeout; the daemon's status if the stream ended
  // first (UNKNOWN "ended without ..." when it ended with OK).
  grpc::Status WaitAck(uint64_t sequence, absl::Duration timeout = absl::Seconds(5));

  // The highest sequence acknowledged on this stream so far (read or not).
  uint64_t acked() const;

  // Breaks the stream abruptly (ClientContext::TryCancel), as a relay that
  // lost its connection; returns once the stream is torn down.
  void Cancel();

  // Sends Close, half-closes and waits for the daemon to end the stream: its
  // status.
  grpc::Status Close(absl::Duration timeout = absl::Seconds(5));

  // Half-closes without Close (a relay going away) and waits for the end.
  grpc::Status HalfClose(absl::Duration timeout = absl::Seconds(5));

  // Waits for the daemon to end the stream, without sending anything: its
  // status; DEADLINE_EXCEEDED (and the stream cancelled) on timeout.
  grpc::Status WaitEnd(absl::Duration timeout = absl::Seconds(5));

  bool started() const { return stream_ != nullptr; }
  bool finished() const { return status_.has_value(); }

 private:
  void ReadLoop();
  // Waits for the reader to see the end, then Finish. Cancels the stream
  // first when it does not end within `timeout`.
  grpc::Status Finish(absl::Duration timeout);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<moq::stats::v1::StatsService::Stub> stub_;
  const absl::Duration lifetime_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<moq::stats::v1::SessionRequest, moq::stats::v1::SessionResponse>> stream_;
  std::thread reader_;
  bool writes_done_ = false;
  std::optional<grpc::Status> status_;

  mutable absl::Mutex mu_;
  std::deque<moq::stats::v1::SessionResponse> responses_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // Read returned false
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_RELAY_STREAM_H_
