#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_MOQ_PEER_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_MOQ_PEER_H_

// MoqPeer: the other end of a bridge session, built from the real pieces: a
// connected Transport, a qmux::Connection and the test LiteSubscriber. It
// plays a MoQ client (serve-mode tests, client perspective) or a relay
// (dial-mode tests, server perspective). Bytes move when the test runs the
// peer's io_context (io_pump.h's RunUntil).
//
// Over WebSocket the version comes from the negotiated subprotocol; over TCP
// the peer advertises only `tcp_version`'s ALPN in its transport parameters
// and speaks that version. Not thread-safe; use it on the thread that runs
// its io_context.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/transport/transport.h"
#include "tests/origin_bridge/lite/test_tools/lite_subscriber.h"

namespace moq_stats::bridge::test {

class MoqPeer {
 public:
  // `adjust`, when set, edits the transport parameters the peer advertises
  // (e.g. to withhold credit); `max_frame_size`, when set, is the largest
  // frame payload the subscriber accepts.
  MoqPeer(std::unique_ptr<Transport> transport, qmux::Perspective perspective,
          lite::Version tcp_version = lite::Version::kLite05,
          const std::function<void(qmux::TransportParameters&)>& adjust = nullptr,
          std::optional<size_t> max_frame_size = std::nullopt)
      : transport_(std::move(transport)), state_(std::make_shared<State>()) {
    Negotiated negotiated = transport_->negotiated().value_or(Negotiated{tcp_version, true, ""});
    qmux::ConnectionOptions options;
    options.perspective = perspective;
    options.mode = transport_->mode();
    options.records = negotiated.qmux_records;
    std::vector<std::string> alpns;
    if (options.mode == qmux::RecordMode::kTcp) alpns.emplace_back(lite::VersionAlpn(tcp_version));
    options.local = qmux::LocalTransportParameters(options.mode, alpns);
    if (adjust) adjust(options.local);
    connection_ = std::make_unique<qmux::Connection>(options, nullptr);
    lite::test::LiteSubscriber::Options subscriber_options{negotiated.version, 77};
    if (max_frame_size) subscriber_options.max_frame_size = *max_frame_size;
    subscriber_ = std::make_unique<lite::test::LiteSubscriber>(subscriber_options, connection_.get());
    connection_->set_events(subscriber_.get());
    version_ = negotiated.version;
  }
  ~MoqPeer() { connection_->set_events(nullptr); }
  MoqPeer(const MoqPeer&) = delete;
  MoqPeer& operator=(const MoqPeer&) = delete;

  // Starts reading and sends our transport parameters and SETUP.
  void Start() {
    std::weak_ptr<State> weak = state_;
    Transport::Handlers handlers;
    handlers.on_bytes = [this, weak](std::string_view bytes) {
      if (weak.expired()) return;
      connection_->OnBytesReceived(bytes);
      Flush();
    };
    handlers.on_closed = [this, weak](absl::Status) {
      auto state = weak.lock();
      if (!state) return;
      state->transport_closed = true;
      connection_->OnTransportClosed("transport closed");
    };
    transport_->Start(std::move(handlers));
    (void)subscriber_->Start();
    Flush();
  }

  // Sends what the connection queued (call after using subscriber()).
  void Flush() {
    if (state_->transport_closed) return;
    std::vector<std::string> out = connection_->TakeOutgoing();
    if (!out.empty()) transport_->Send(std::move(out));
  }

  // Drops the transport without a QMux close, as a crashing relay would.
  void CloseTransport() { transport_->Close(); }

  lite::test::LiteSubscriber& subscriber() { return *subscriber_; }
  qmux::Connection& connection() { return *connection_; }
  lite::Version version() const { return version_; }
  bool transport_closed() const { return state_->transport_closed; }

 private:
  struct State {
    bool transport_closed = false;
  };
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<qmux::Connection> connection_;
  std::unique_ptr<lite::test::LiteSubscriber> subscriber_;
  std::shared_ptr<State> state_;  // handlers check it is still alive
  lite::Version version_;
};

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_BRIDGE_TEST_TOOLS_MOQ_PEER_H_
