#include "origin_bridge/transport/websocket_transport.h"

#include <chrono>
#include <optional>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "origin_bridge/transport/internal/queued_connection.h"
#include "origin_bridge/transport/internal/socket_liveness.h"

namespace moq_stats::bridge {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

// The connection itself, shared by the public object and the operations in
// flight, so that it outlives both. The queue, Close and Finish live in
// QueuedConnection; this part owns the stream.
class WebSocketConnection : public internal::QueuedConnection<WebSocketConnection> {
 public:
  static constexpr qmux::RecordMode kRecordMode = qmux::RecordMode::kWebSocket;

  WebSocketConnection(WebSocketStream&& stream, Negotiated negotiated, std::string peer,
                      const WebSocketOptions& options, std::shared_ptr<void> slot)
      : QueuedConnection(stream.get_executor(), std::move(peer), options.close_timeout_ms),
        ws_(std::move(stream)),
        negotiated_(std::move(negotiated)),
        options_(options),
        slot_(std::move(slot)) {
    // Records are small and flow-control updates must not wait for a
    // delayed ACK: with Nagle on, each return of stream credit stalled
    // ~40 ms and capped a subscriber at ~2,000 groups/s.
    error_code ignored;
    ws_.next_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
    internal::SetLivenessOptions(ws_.next_layer());
    ws_.binary(true);
    ws_.read_message_max(options_.max_message_size);
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::milliseconds(options_.close_timeout_ms);
    timeout.idle_timeout = options_.idle_timeout_ms == 0 ? websocket::stream_base::none()
                                                         : std::chrono::milliseconds(options_.idle_timeout_ms);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
  }

  std::optional<Negotiated> negotiated() const { return negotiated_; }

 private:
  friend class internal::QueuedConnection<WebSocketConnection>;
  static constexpr char kName[] = "websocket";
  // An empty chunk is an empty binary message.
  static constexpr bool kSkipEmptyChunks = false;

  void Read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (finished()) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (!ws_.got_binary()) {
      FailWithClose(
          absl::InvalidArgumentError(absl::StrCat("websocket ", peer(), ": text message (QMux needs binary)")),
          websocket::close_code::unknown_data);
      return;
    }
    auto data = read_buffer_.data();
    DeliverBytes(std::string_view(static_cast<const char*>(data.data()), data.size()));
    read_buffer_.clear();
    if (!finished()) Read();
  }

  void OnReadError(error_code ec) {
    if (ec == websocket::error::closed) {
      // The close handshake completed: the peer's, or the answer to ours.
      websocket::close_reason reason = ws_.reason();
      if (closing() || reason.code == websocket::close_code::normal ||
          reason.code == websocket::close_code::going_away || reason.code == websocket::close_code::none) {
        Finish(absl::OkStatus());
      } else {
        Finish(absl::UnavailableError(absl::StrCat("websocket ", peer(), ": peer closed with code ", reason.code, " ",
                                                   std::string(reason.reason.c_str()))));
      }
      DropSocket();
      return;
    }
    if (ec == websocket::error::message_too_big) {
      // Beast has already sent close code 1009.
      DropSocket();
      Finish(absl::ResourceExhaustedError(
          absl::StrCat("websocket ", peer(), ": message above ", options_.max_message_size, " bytes")));
      return;
    }
    DropSocket();
    if (closing()) {
      Finish(absl::OkStatus());
    } else if (ec == beast::error::timeout) {
      Finish(absl::DeadlineExceededError(
          absl::StrCat("websocket ", peer(), ": idle for ", options_.idle_timeout_ms, " ms")));
    } else {
      Finish(absl::UnavailableError(absl::StrCat("websocket ", peer(), ": ", ec.message())));
    }
  }

  template <typename Handler>
  void AsyncWrite(asio::const_buffer chunk, Handler&& handler) {
    ws_.async_write(chunk, std::forward<Handler>(handler));
  }

  // Everything queued is written: start the close handshake, unless a close
  // frame has gone out already.
  void EndSending() {
    if (!close_sent_) SendCloseFrame();
  }

  void SendCloseFrame() {
    close_sent_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code ec) {
      if (self->finished()) return;
      // The pending read usually reports the end first; this covers a
      // connection whose read was never started.
      if (ec) MOQSTATS_LOG(DEBUG) << "websocket " << self->peer() << ": close: " << ec.message();
      self->DropSocket();
      self->Finish(absl::OkStatus());
    });
  }

  // Reports `status` and sends a close frame with `code`, bounded by the
  // close timeout.
  void FailWithClose(absl::Status status, websocket::close_code code) {
    Finish(std::move(status));
    if (close_sent_) return;
    close_sent_ = true;
    close_timer().expires_after(std::chrono::milliseconds(options_.close_timeout_ms));
    close_timer().async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->DropSocket();
    });
    ws_.async_close(code, [self = shared_from_this()](error_code) {
      self->close_timer().cancel();
      self->DropSocket();
    });
  }

  void DropSocket() {
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }

  void OnFinish() { slot_.reset(); }

  WebSocketStream ws_;
  const Negotiated negotiated_;
  const WebSocketOptions options_;
  std::shared_ptr<void> slot_;
  beast::flat_buffer read_buffer_;
  bool close_sent_ = false;
};

}  // namespace

std::unique_ptr<Transport> MakeWebSocketTransport(WebSocketStream&& stream, Negotiated negotiated, std::string peer,
                                                  const WebSocketOptions& options,
                                                  std::shared_ptr<void> connection_slot) {
  return std::make_unique<internal::QueuedConnectionTransport<WebSocketConnection>>(
      std::make_shared<WebSocketConnection>(std::move(stream), std::move(negotiated), std::move(peer), options,
                                            std::move(connection_slot)));
}

}  // namespace moq_stats::bridge
