#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_DIALER_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_DIALER_H_

// Dial mode: keeps one moq-lite session to a relay. It dials the target,
// serves the origin over the session (client perspective), and whenever
// the dial fails or the session ends it logs why, counts a reconnect, waits
// the Backoff's next delay and dials again. A fresh session announces what
// is live at that moment, so nothing is replayed after a reconnect.
//
// Runs on one io_context thread: Start, Stop and every handler run there.
// Owned through shared_ptr (handlers hold weak references).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/time/time.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/backoff.h"
#include "origin_bridge/bridge/bridge_status.h"
#include "origin_bridge/bridge/moq_session.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

struct DialerOptions {
  DialTarget target;
  std::string redacted_url;  // for logs and status
  absl::Duration dial_timeout = absl::Seconds(10);
  BackoffOptions backoff;
  // Seeds the backoff's jitter; tests pass a fixed value.
  uint64_t seed = 0;
  MoqSessionOptions session;  // perspective is forced to client
};

class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  // `io`, `origin` and `board` are borrowed and must outlive the dialer.
  static std::shared_ptr<Dialer> Create(boost::asio::io_context& io, Origin* origin, DialerOptions options,
                                        StatusBoard* board);
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;

  // Dials for the first time.
  void Start();

  // Cancels the wait before a redial and closes the session (application
  // code 0). A dial under way runs to its end (at most the dial timeout)
  // and its connection is closed at once. No redial follows.
  void Stop();

  // True while a session is up or closing.
  bool has_session() const { return session_ != nullptr; }

 private:
  Dialer(boost::asio::io_context& io, Origin* origin, DialerOptions options, StatusBoard* board);
  void Dial();
  void OnDialed(absl::StatusOr<std::unique_ptr<Transport>> transport);
  void OnSessionEnded(const CloseInfo& info);
  void Retry(const std::string& why);

  boost::asio::io_context& io_;
  Origin* const origin_;
  DialerOptions options_;
  StatusBoard* const board_;
  Backoff backoff_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<MoqSession> session_;
  std::chrono::steady_clock::time_point session_started_;
  uint64_t next_session_id_;
  bool stopped_ = false;
  bool dialing_ = false;
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_DIALER_H_
