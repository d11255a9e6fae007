#include "origin_bridge/bridge/dialer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/utf8.h"

namespace moq_stats::bridge {

// Dial-mode sessions are numbered from 1 on the board; serve-mode ones from
// 2^63 (see moq_server.cc).
std::shared_ptr<Dialer> Dialer::Create(boost::asio::io_context& io, Origin* origin, DialerOptions options,
                                       StatusBoard* board) {
  return std::shared_ptr<Dialer>(new Dialer(io, origin, std::move(options), board));
}

Dialer::Dialer(boost::asio::io_context& io, Origin* origin, DialerOptions options, StatusBoard* board)
    : io_(io),
      origin_(origin),
      options_(std::move(options)),
      board_(board),
      backoff_(options_.backoff, Backoff::SeededRandom(options_.seed)),
      timer_(io),
      next_session_id_(1) {
  options_.session.perspective = qmux::Perspective::kClient;
  board_->EditDial([this](DialStatus& dial) {
    dial.enabled = true;
    dial.url = options_.redacted_url;
  });
}

void Dialer::Start() { Dial(); }

void Dialer::Dial() {
  if (stopped_ || dialing_ || session_) return;
  dialing_ = true;
  MOQSTATS_LOG(DEBUG) << "dialing " << options_.redacted_url;
  std::weak_ptr<Dialer> weak = weak_from_this();
  AsyncDial(io_, options_.target, static_cast<uint64_t>(absl::ToInt64Milliseconds(options_.dial_timeout)),
            [weak](absl::StatusOr<std::unique_ptr<Transport>> transport) {
              if (auto self = weak.lock()) self->OnDialed(std::move(transport));
            });
}

void Dialer::OnDialed(absl::StatusOr<std::unique_ptr<Transport>> transport) {
  dialing_ = false;
  if (stopped_) {
    if (transport.ok()) (*transport)->Close();
    return;
  }
  if (!transport.ok()) {
    Retry(absl::StrCat("cannot connect to ", options_.redacted_url, ": ", transport.status().message()));
    return;
  }
  std::weak_ptr<Dialer> weak = weak_from_this();
  MoqSessionOptions session_options = options_.session;
  session_options.request_target = options_.target.target;
  session_ = MoqSession::Create(io_, *std::move(transport), origin_, session_options, board_, next_session_id_++,
                                [weak](const CloseInfo& info) {
                                  if (auto self = weak.lock()) self->OnSessionEnded(info);
                                });
  session_started_ = std::chrono::steady_clock::now();
  std::string subprotocol = session_->subprotocol();
  MOQSTATS_LOG(INFO) << "connected to " << options_.redacted_url << " (" << session_->peer() << ")";
  board_->EditDial([&](DialStatus& dial) {
    dial.connected = true;
    dial.subprotocol = subprotocol;
    dial.connected_since = absl::Now();
  });
  // Over TCP the version is known only once the relay's parameters arrive.
  session_->set_on_version([board = board_](lite::Version version) {
    board->EditDial([version](DialStatus& dial) { dial.version = std::string(lite::VersionAlpn(version)); });
  });
  session_->Start();
}

void Dialer::OnSessionEnded(const CloseInfo& info) {
  session_.reset();
  uint64_t uptime_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - session_started_)
          .count());
  backoff_.OnSessionEnded(uptime_ms);
  board_->EditDial([](DialStatus& dial) {
    dial.connected = false;
    dial.version.clear();
    dial.subprotocol.clear();
    dial.connected_since = absl::InfinitePast();
  });
  if (stopped_) return;
  Retry(absl::StrCat("session with ", options_.redacted_url, " ended ", info.by_peer ? "by the peer" : "by us",
                     " with ", info.application ? "application" : "transport", " code ", info.code,
                     info.reason.empty() ? "" : absl::StrCat(" (", info.reason, ")")));
}

void Dialer::Retry(const std::string& reason) {
  // Error texts may carry what a peer sent (an HTTP reason, a close reason).
  const std::string why = PrintableText(reason, 512);
  uint64_t delay_ms = backoff_.NextDelayMs();
  MOQSTATS_LOG(WARNING) << why << "; reconnecting in " << delay_ms << " ms";
  board_->EditDial([&](DialStatus& dial) {
    ++dial.reconnects;
    dial.last_error = why;
  });
  timer_.expires_after(std::chrono::milliseconds(delay_ms));
  std::weak_ptr<Dialer> weak = weak_from_this();
  timer_.async_wait([weak](const boost::system::error_code& error) {
    if (error) return;  // cancelled
    if (auto self = weak.lock()) self->Dial();
  });
}

void Dialer::Stop() {
  stopped_ = true;
  timer_.cancel();
  if (session_) session_->Close(0, "the sidecar is shutting down");
}

}  // namespace moq_stats::bridge
