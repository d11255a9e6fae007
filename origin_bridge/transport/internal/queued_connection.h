#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_QUEUED_CONNECTION_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_QUEUED_CONNECTION_H_

// What the socket-backed transports (TCP, WebSocket) share: the handlers, the
// queue of chunks written one at a time and in order, the count of queued
// bytes, and the life of a connection: Start, Send, a graceful Close bounded
// by a timer, Abandon when the public object goes, and one end (Finish) that
// reports on_closed at most once and never after Abandon.
//
// QueuedConnection<Derived> is a CRTP base; Derived owns the socket and
// supplies (privately, with the base as a friend):
//   static constexpr char kName[];     // "tcp", "websocket": starts errors and logs
//   static constexpr bool kSkipEmptyChunks;  // Send drops empty chunks
//   void Read();                       // starts the next read
//   template <typename Handler>
//   void AsyncWrite(boost::asio::const_buffer chunk, Handler&& handler);
//                                      // writes one whole chunk; handler(ec, n)
//   void EndSending();                 // closing and the queue has drained
//   void DropSocket();                 // closes the socket at once
//   void OnFinish();                   // the connection ended; before on_closed
// Derived is owned by std::shared_ptr (operations in flight hold it).
//
// QueuedConnectionTransport<Connection> is the public Transport over it: it
// owns the connection's lifetime from the caller's side and abandons it when
// destroyed.
//
// Not thread-safe: runs on the socket's io_context thread only, like the
// transports built on it.
//
// Only the transports' source files include this; it needs Asio, not Beast.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge::internal {

template <typename Derived>
class QueuedConnection : public std::enable_shared_from_this<Derived> {
 public:
  QueuedConnection(const QueuedConnection&) = delete;
  QueuedConnection& operator=(const QueuedConnection&) = delete;

  const std::string& peer() const { return peer_; }
  uint64_t queued_bytes() const { return queued_bytes_; }

  void Start(Transport::Handlers handlers) {
    if (started_ || finished_) return;
    started_ = true;
    handlers_ = std::move(handlers);
    derived().Read();
  }

  void Send(std::vector<std::string> chunks) {
    if (finished_ || closing_) return;
    // A handler run from here (on_drained, on_closed) may destroy the public
    // object that owns this connection.
    auto keep = Self();
    for (std::string& chunk : chunks) {
      if (Derived::kSkipEmptyChunks && chunk.empty()) continue;
      queued_bytes_ += chunk.size();
      queue_.push_back(std::move(chunk));
    }
    if (!writing_) WriteNext();
  }

  void Close() {
    if (finished_ || closing_) return;
    auto keep = Self();  // on_closed may run from here and drop the owner
    closing_ = true;
    close_timer_.expires_after(std::chrono::milliseconds(close_timeout_ms_));
    close_timer_.async_wait([self = Self()](boost::system::error_code ec) {
      if (ec || self->finished_) return;
      MOQSTATS_LOG(WARNING) << Derived::kName << " " << self->peer_ << ": close timed out";
      self->derived().DropSocket();
      self->Finish(absl::OkStatus());
    });
    if (!writing_) derived().EndSending();
  }

  // The public object is gone: no more handlers; a close under way finishes.
  void Abandon() {
    abandoned_ = true;
    if (closing_ && !finished_) return;
    derived().DropSocket();
    Finish(absl::OkStatus());
  }

 protected:
  // `executor` runs the close timer: the socket's. Close() gives up after
  // `close_timeout_ms`.
  QueuedConnection(const boost::asio::any_io_executor& executor, std::string peer, uint32_t close_timeout_ms)
      : peer_(std::move(peer)), close_timeout_ms_(close_timeout_ms), close_timer_(executor) {}
  ~QueuedConnection() = default;

  bool closing() const { return closing_; }
  bool finished() const { return finished_; }
  boost::asio::steady_timer& close_timer() { return close_timer_; }

  // Hands bytes read to on_bytes, unless closing or abandoned (then they are
  // dropped).
  void DeliverBytes(std::string_view bytes) {
    if (!closing_ && !abandoned_ && handlers_.on_bytes) handlers_.on_bytes(bytes);
  }

  // Ends the connection once: clears the queue, stops the close timer and
  // reports `status` to on_closed unless abandoned.
  void Finish(absl::Status status) {
    if (finished_) return;
    finished_ = true;
    derived().OnFinish();
    queue_.clear();
    queued_bytes_ = 0;
    close_timer_.cancel();
    if (abandoned_ || !handlers_.on_closed) return;
    auto on_closed = std::move(handlers_.on_closed);
    on_closed(std::move(status));
  }

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
  std::shared_ptr<QueuedConnection> Self() { return this->shared_from_this(); }

  void WriteNext() {
    if (queue_.empty()) {
      bool was_writing = writing_;
      writing_ = false;
      if (closing_) derived().EndSending();
      // The handler may Send again, which starts the next write.
      if (was_writing && !closing_ && !abandoned_ && handlers_.on_drained) handlers_.on_drained();
      return;
    }
    writing_ = true;
    derived().AsyncWrite(boost::asio::buffer(queue_.front()),
                         [self = Self()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(boost::system::error_code ec) {
    if (finished_) return;
    if (ec) {
      writing_ = false;
      derived().DropSocket();
      Finish(closing_
                 ? absl::OkStatus()
                 : absl::UnavailableError(absl::StrCat(Derived::kName, " ", peer_, ": write failed: ", ec.message())));
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    WriteNext();
  }

  const std::string peer_;
  const uint32_t close_timeout_ms_;
  boost::asio::steady_timer close_timer_;
  Transport::Handlers handlers_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  uint64_t queued_bytes_ = 0;
  bool started_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool abandoned_ = false;
};

// The public object over a QueuedConnection. Connection also supplies
// `static constexpr qmux::RecordMode kRecordMode` and
// `std::optional<Negotiated> negotiated() const`.
template <typename Connection>
class QueuedConnectionTransport final : public Transport {
 public:
  explicit QueuedConnectionTransport(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}
  ~QueuedConnectionTransport() override { connection_->Abandon(); }
  QueuedConnectionTransport(const QueuedConnectionTransport&) = delete;
  QueuedConnectionTransport& operator=(const QueuedConnectionTransport&) = delete;

  qmux::RecordMode mode() const override { return Connection::kRecordMode; }
  std::optional<Negotiated> negotiated() const override { return connection_->negotiated(); }
  std::string peer() const override { return connection_->peer(); }
  void Start(Handlers handlers) override { connection_->Start(std::move(handlers)); }
  void Send(std::vector<std::string> chunks) override { connection_->Send(std::move(chunks)); }
  uint64_t queued_bytes() const override { return connection_->queued_bytes(); }
  void Close() override { connection_->Close(); }

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace moq_stats::bridge::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_INTERNAL_QUEUED_CONNECTION_H_
