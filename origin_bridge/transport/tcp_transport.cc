#include "origin_bridge/transport/tcp_transport.h"

#include <chrono>
#include <deque>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace moqstats::bridge {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// The connection itself, shared by the public object and the operations in
// flight, so that it outlives both.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(tcp::socket socket, std::string peer, const TcpOptions& options)
      : socket_(std::move(socket)),
        peer_(std::move(peer)),
        options_(options),
        close_timer_(socket_.get_executor()),
        read_buffer_(options.read_size == 0 ? 1 : options.read_size) {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }

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
      if (chunk.empty()) continue;
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
      MOQSTATS_LOG(WARNING) << "tcp " << self->peer_ << ": close timed out";
      self->DropSocket();
      self->Finish(absl::OkStatus());
    });
    if (!writing_) ShutdownSend();
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
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->reading_ = false;
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(error_code ec, size_t n) {
    if (finished_) return;
    if (ec) {
      DropSocket();
      if (ec == asio::error::eof || closing_) {
        Finish(absl::OkStatus());
      } else {
        Finish(absl::UnavailableError(absl::StrCat("tcp ", peer_, ": ", ec.message())));
      }
      return;
    }
    if (!closing_ && !abandoned_ && handlers_.on_bytes) {
      handlers_.on_bytes(std::string_view(read_buffer_.data(), n));
    }
    if (!finished_) Read();
  }

  void WriteNext() {
    if (queue_.empty()) {
      bool was_writing = writing_;
      writing_ = false;
      if (closing_) ShutdownSend();
      // The handler may Send again, which starts the next write.
      if (was_writing && !closing_ && !abandoned_ && handlers_.on_drained) handlers_.on_drained();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (finished_) return;
    if (ec) {
      writing_ = false;
      DropSocket();
      Finish(closing_ ? absl::OkStatus()
                      : absl::UnavailableError(
                            absl::StrCat("tcp ", peer_, ": write failed: ", ec.message())));
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    WriteNext();
  }

  // Everything queued is written: end our side, then wait for the peer's.
  void ShutdownSend() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      DropSocket();
      Finish(absl::OkStatus());
      return;
    }
    if (!reading_) Read();
  }

  void DropSocket() {
    error_code ignored;
    socket_.close(ignored);
  }

  void Finish(absl::Status status) {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    close_timer_.cancel();
    if (abandoned_ || !handlers_.on_closed) return;
    auto on_closed = std::move(handlers_.on_closed);
    on_closed(std::move(status));
  }

  tcp::socket socket_;
  const std::string peer_;
  const TcpOptions options_;
  asio::steady_timer close_timer_;
  Transport::Handlers handlers_;
  std::vector<char> read_buffer_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  uint64_t queued_bytes_ = 0;
  bool started_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool abandoned_ = false;
};

// The public object: owns the connection's lifetime from the caller's side.
class TcpTransport : public Transport {
 public:
  explicit TcpTransport(std::shared_ptr<TcpConnection> connection)
      : connection_(std::move(connection)) {}
  ~TcpTransport() override { connection_->Abandon(); }
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  qmux::RecordMode mode() const override { return qmux::RecordMode::kTcp; }
  std::optional<Negotiated> negotiated() const override { return std::nullopt; }
  std::string peer() const override { return connection_->peer(); }
  void Start(Handlers handlers) override { connection_->Start(std::move(handlers)); }
  void Send(std::vector<std::string> chunks) override { connection_->Send(std::move(chunks)); }
  uint64_t queued_bytes() const override { return connection_->queued_bytes(); }
  void Close() override { connection_->Close(); }

 private:
  std::shared_ptr<TcpConnection> connection_;
};

}  // namespace

std::unique_ptr<Transport> MakeTcpTransport(tcp::socket socket, std::string peer,
                                            const TcpOptions& options) {
  return std::make_unique<TcpTransport>(
      std::make_shared<TcpConnection>(std::move(socket), std::move(peer), options));
}

}  // namespace moqstats::bridge
