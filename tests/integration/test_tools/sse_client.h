#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SSE_CLIENT_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SSE_CLIENT_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"

namespace moq_stats {
namespace integration {

// One Server-Sent Event: its type ("message" when unnamed) and its data
// lines joined by '\n'.
struct SseEvent {
  std::string event;
  std::string data;
};

// A GET of a text/event-stream on 127.0.0.1, read event by event (a raw
// socket, as a browser's EventSource would read it). Use from one thread.
class SseClient {
 public:
  // Connects and sends the request, then reads the response header.
  // `receive_buffer` > 0 sets SO_RCVBUF first (a slow client's small
  // window). UNAVAILABLE when it cannot connect or no header comes.
  static absl::StatusOr<std::unique_ptr<SseClient>> Open(int port, const std::string& target, int receive_buffer = 0);
  // Opens without reading anything back: for a client that never reads.
  static absl::StatusOr<std::unique_ptr<SseClient>> OpenUnread(int port, const std::string& target, int receive_buffer);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  // The header block, lower-cased.
  const std::string& header() const { return header_; }
  // For a response other than 200: its body, read to the end.
  std::string ReadBody(absl::Duration timeout = absl::Seconds(5));

  // The next event, or nullopt when none comes within `timeout` or the
  // connection ended (see ended()). Comment lines (heartbeats) are counted
  // in comments() and skipped.
  std::optional<SseEvent> Next(absl::Duration timeout);
  // Reads until `done` accepts an event; false on timeout or end.
  bool WaitFor(const std::function<bool(const SseEvent&)>& done, absl::Duration timeout);
  // Reads and discards until the server closes; false on timeout.
  bool WaitEnded(absl::Duration timeout);

  // The next record of the "watch" events of /api/v1/watch (each carries
  // a JSON array of them), e.g. {"frame":{"path":..,"payload":{..}}};
  // nullopt as Next() gives. Malformed data fails the test.
  std::optional<google::protobuf::Struct> NextRecord(absl::Duration timeout);
  // Reads records until `done` accepts one; false on timeout or end.
  bool WaitForRecord(const std::function<bool(const google::protobuf::Struct&)>& done, absl::Duration timeout);

  bool ended() const { return ended_; }
  int comments() const { return comments_; }

 private:
  explicit SseClient(int fd) : fd_(fd) {}
  // Reads more into buffer_; false at the end or on timeout.
  bool Fill(absl::Time deadline);

  int fd_;
  int status_ = 0;
  std::string header_;
  std::string buffer_;
  bool ended_ = false;
  int comments_ = 0;
  std::deque<google::protobuf::Struct> records_;
};

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_SSE_CLIENT_H_
