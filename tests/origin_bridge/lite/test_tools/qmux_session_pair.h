#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_QMUX_SESSION_PAIR_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_QMUX_SESSION_PAIR_H_

// QmuxSessionPair: a moq-lite PublisherSession on one qmux::Connection and a
// LiteSubscriber on the opposite Connection, the two connections joined in
// memory. The publisher is either the QMux client (it dialled the relay) or
// the QMux server (the relay dialled it). Pump() polls the publisher when the
// origin woke it and moves bytes both ways until everything is quiet, in a
// bounded number of rounds. No sockets, no clock, no threads.
//
// Not thread-safe: use it on one thread (the origin's writers may call the
// wake callback from any thread; it only sets a flag).

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "origin/origin.h"
#include "origin_bridge/lite/publisher_session.h"
#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/transport_params.h"
#include "tests/origin_bridge/lite/test_tools/lite_subscriber.h"

namespace moq_stats::lite::test {

class QmuxSessionPair {
 public:
  struct Options {
    lite::Version version = lite::Version::kLite05;
    // true: serve mode (the publisher accepted the connection: QMux server);
    // false: dial mode (the publisher dialled: QMux client).
    bool publisher_is_server = false;
    qmux::RecordMode mode = qmux::RecordMode::kWebSocket;
    // QMux draft-01 records (true) or draft-00 bare frames (WebSocket only).
    bool records = true;
    // What each connection advertises to the other.
    qmux::TransportParameters publisher_params = qmux::DefaultTransportParameters();
    qmux::TransportParameters subscriber_params = qmux::DefaultTransportParameters();
    // Session options; `version` above overrides theirs.
    lite::PublisherOptions publisher;
    LiteSubscriber::Options subscriber;
  };

  // `origin` is borrowed and must outlive the pair.
  QmuxSessionPair(Options options, Origin* origin);
  ~QmuxSessionPair();
  QmuxSessionPair(const QmuxSessionPair&) = delete;
  QmuxSessionPair& operator=(const QmuxSessionPair&) = delete;

  // Starts both sides (their lite-05 SETUP) and pumps the handshake.
  // False when the pump did not go quiet.
  bool Start();

  // Polls the publisher whenever it was woken and moves bytes both ways
  // until neither connection has anything to send and no wake is pending,
  // at most `max_rounds` rounds. True when it went quiet.
  bool Pump(int max_rounds = 100000);

  // Moves what each connection holds now to the other, once each way,
  // without polling the publisher. Returns the chunks moved.
  size_t DeliverOnce();

  qmux::Connection& publisher_connection() { return *publisher_connection_; }
  qmux::Connection& subscriber_connection() { return *subscriber_connection_; }
  lite::PublisherSession& session() { return *session_; }
  LiteSubscriber& subscriber() { return *subscriber_; }

  // True while a wake is pending (the origin has news for the publisher).
  bool woken() const { return woken_->load(std::memory_order_acquire); }

 private:
  static size_t Deliver(qmux::Connection& from, qmux::Connection& to);

  // Set by the wake callback; shared because the callback lives in the
  // session's ready queue, which origin consumers may hold a moment longer.
  std::shared_ptr<std::atomic<bool>> woken_;
  std::unique_ptr<qmux::Connection> publisher_connection_;
  std::unique_ptr<qmux::Connection> subscriber_connection_;
  std::unique_ptr<lite::PublisherSession> session_;
  std::unique_ptr<LiteSubscriber> subscriber_;
};

// A frame payload "<tag>#<sequence>:" padded to `size` bytes with every byte
// value, so a frame that is cut, shifted or re-encoded shows.
std::string TestPayload(const std::string& tag, uint64_t sequence, size_t size = 300);

// Sequences of the complete groups `subscriber` received for
// `subscribe_id`, in arrival order.
std::vector<uint64_t> CompleteSequences(const LiteSubscriber& subscriber, uint64_t subscribe_id);

}  // namespace moq_stats::lite::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_QMUX_SESSION_PAIR_H_
