#include "origin_bridge/transport/websocket_transport.h"

#include <chrono>
#include <deque>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace moqstats::bridge {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

// The connection itself, shared by the public object and the operations in
// flight, so that it outlives both.
class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(WebSocketStream&& stream, Negotiated negotiated, std::string peer,
                      const WebSocketOptions& options, std::shared_ptr<void> slot)
      : ws_(std::move(stream)),
        negotiated_(std::move(negotiated)),
        peer_(std::move(peer)),
        options_(options),
        slot_(std::move(slot)),
        close_timer_(ws_.get_executor()) {
    ws_.binary(true);
    ws_.read_message_max(options_.max_message_size);
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::milliseconds(options_.close_timeout_ms);
    timeout.idle_timeout = options_.idle_timeout_ms == 0
                               ? websocket::stream_base::none()
                               : std::chrono::milliseconds(options_.idle_timeout_ms);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
  }

  const Negotiated& negotiated() const { return negotiated_; }
  const std::string& peer() const { return peer_; }
  uint64_t queued_bytes() const { return queued_bytes_; }

  void Start(Transport::Handlers handlers) {
    if (started_ || finished_) return;
    started_ = true;
    handlers_ = std::move(handlers);
    Read();
  }

  void Send(std::vector<std::string> chunks) {
    if (finished_ || closing_) return;
    for (std::string& chunk : chunks) {
      queued_bytes_ += chunk.size();
      queue_.push_back(std::move(chunk));
    }
    if (!writing_) WriteNext();
  }

  void Close() {
    if (finished_ || closing_) return;
    closing_ = true;
    close_timer_.expires_after(std::chrono::milliseconds(options_.close_timeout_ms));
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->finished_) return;
      MOQSTATS_LOG(WARNING) << "websocket " << self->peer_ << ": close timed out";
      self->DropSocket();
      self->Finish(absl::OkStatus());
    });
    if (!writing_) SendCloseFrame();
  }

  // The public object is gone: no more handlers; a close under way finishes.
  void Abandon() {
    abandoned_ = true;
    if (closing_ && !finished_) return;
    DropSocket();
    Finish(absl::OkStatus());
  }

 private:
  void Read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(error_code ec) {
    if (finished_) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (!ws_.got_binary()) {
      FailWithClose(absl::InvalidArgumentError(
                        absl::StrCat("websocket ", peer_, ": text message (QMux needs binary)")),
                    websocket::close_code::unknown_data);
      return;
    }
    if (!closing_ && !abandoned_ && handlers_.on_bytes) {
      auto data = read_buffer_.data();
      handlers_.on_bytes(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    read_buffer_.clear();
    if (!finished_) Read();
  }

  void OnReadError(error_code ec) {
    if (ec == websocket::error::closed) {
      // The close handshake completed: the peer's, or the answer to ours.
      websocket::close_reason reason = ws_.reason();
      if (closing_ || reason.code == websocket::close_code::normal ||
          reason.code == websocket::close_code::going_away ||
          reason.code == websocket::close_code::none) {
        Finish(absl::OkStatus());
      } else {
        Finish(absl::UnavailableError(absl::StrCat("websocket ", peer_, ": peer closed with code ",
                                                   reason.code, " ",
                                                   std::string(reason.reason.c_str()))));
      }
      DropSocket();
      return;
    }
    if (ec == websocket::error::message_too_big) {
      // Beast has already sent close code 1009.
      DropSocket();
      Finish(absl::ResourceExhaustedError(absl::StrCat("websocket ", peer_,
                                                       ": message above ",
                                                       options_.max_message_size, " bytes")));
      return;
    }
    DropSocket();
    if (closing_) {
      Finish(absl::OkStatus());
    } else if (ec == beast::error::timeout) {
      Finish(absl::DeadlineExceededError(absl::StrCat("websocket ", peer_, ": idle for ",
                                                      options_.idle_timeout_ms, " ms")));
    } else {
      Finish(absl::UnavailableError(absl::StrCat("websocket ", peer_, ": ", ec.message())));
    }
  }

  void WriteNext() {
    if (queue_.empty()) {
      bool was_writing = writing_;
      writing_ = false;
      if (closing_ && !close_sent_) SendCloseFrame();
      // The handler may Send again, which starts the next write.
      if (was_writing && !closing_ && !abandoned_ && handlers_.on_drained) handlers_.on_drained();
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (finished_) return;
    if (ec) {
      writing_ = false;
      DropSocket();
      Finish(closing_ ? absl::OkStatus()
                      : absl::UnavailableError(absl::StrCat("websocket ", peer_,
                                                            ": write failed: ", ec.message())));
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    WriteNext();
  }

  void SendCloseFrame() {
    close_sent_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code ec) {
      if (self->finished_) return;
      // The pending read usually reports the end first; this covers a
      // connection whose read was never started.
      if (ec) MOQSTATS_LOG(DEBUG) << "websocket " << self->peer_ << ": close: " << ec.message();
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
    close_timer_.expires_after(std::chrono::milliseconds(options_.close_timeout_ms));
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->DropSocket();
    });
    ws_.async_close(code, [self = shared_from_this()](error_code) {
      self->close_timer_.cancel();
      self->DropSocket();
    });
  }

  void DropSocket() {
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }

  void Finish(absl::Status status) {
    if (finished_) return;
    finished_ = true;
    slot_.reset();
    queue_.clear();
    queued_bytes_ = 0;
    close_timer_.cancel();
    if (abandoned_ || !handlers_.on_closed) return;
    auto on_closed = std::move(handlers_.on_closed);
    on_closed(std::move(status));
  }

  WebSocketStream ws_;
  const Negotiated negotiated_;
  const std::string peer_;
  const WebSocketOptions options_;
  std::shared_ptr<void> slot_;
  asio::steady_timer close_timer_;
  Transport::Handlers handlers_;
  beast::flat_buffer read_buffer_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  uint64_t queued_bytes_ = 0;
  bool started_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
  bool abandoned_ = false;
};

// The public object: owns the connection's lifetime from the caller's side.
class WebSocketTransport : public Transport {
 public:
  explicit WebSocketTransport(std::shared_ptr<WebSocketConnection> connection)
      : connection_(std::move(connection)) {}
  ~WebSocketTransport() override { connection_->Abandon(); }
  WebSocketTransport(const WebSocketTransport&) = delete;
  WebSocketTransport& operator=(const WebSocketTransport&) = delete;

  qmux::RecordMode mode() const override { return qmux::RecordMode::kWebSocket; }
  std::optional<Negotiated> negotiated() const override { return connection_->negotiated(); }
  std::string peer() const override { return connection_->peer(); }
  void Start(Handlers handlers) override { connection_->Start(std::move(handlers)); }
  void Send(std::vector<std::string> chunks) override { connection_->Send(std::move(chunks)); }
  uint64_t queued_bytes() const override { return connection_->queued_bytes(); }
  void Close() override { connection_->Close(); }

 private:
  std::shared_ptr<WebSocketConnection> connection_;
};

}  // namespace

std::unique_ptr<Transport> MakeWebSocketTransport(WebSocketStream&& stream, Negotiated negotiated,
                                                  std::string peer,
                                                  const WebSocketOptions& options,
                                                  std::shared_ptr<void> connection_slot) {
  return std::make_unique<WebSocketTransport>(std::make_shared<WebSocketConnection>(
      std::move(stream), std::move(negotiated), std::move(peer), options,
      std::move(connection_slot)));
}

}  // namespace moqstats::bridge
