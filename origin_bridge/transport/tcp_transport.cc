#include "origin_bridge/transport/tcp_transport.h"

#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "origin_bridge/transport/internal/queued_connection.h"
#include "origin_bridge/transport/internal/socket_liveness.h"

namespace moq_stats::bridge {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// The connection itself, shared by the public object and the operations in
// flight, so that it outlives both. The queue, Close and Finish live in
// QueuedConnection; this part owns the socket.
class TcpConnection : public internal::QueuedConnection<TcpConnection> {
 public:
  static constexpr qmux::RecordMode kRecordMode = qmux::RecordMode::kTcp;

  TcpConnection(tcp::socket socket, std::string peer, const TcpOptions& options)
      : QueuedConnection(socket.get_executor(), std::move(peer), options.close_timeout_ms),
        socket_(std::move(socket)),
        read_buffer_(options.read_size == 0 ? 1 : options.read_size) {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    internal::SetLivenessOptions(socket_);
  }

  std::optional<Negotiated> negotiated() const { return std::nullopt; }

 private:
  friend class internal::QueuedConnection<TcpConnection>;
  static constexpr char kName[] = "tcp";
  // A TCP byte stream has nothing to carry for an empty chunk.
  static constexpr bool kSkipEmptyChunks = true;

  void Read() {
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](error_code ec, size_t n) {
      self->reading_ = false;
      self->OnRead(ec, n);
    });
  }

  void OnRead(error_code ec, size_t n) {
    if (finished()) return;
    if (ec) {
      DropSocket();
      if (ec == asio::error::eof || closing()) {
        Finish(absl::OkStatus());
      } else {
        Finish(absl::UnavailableError(absl::StrCat("tcp ", peer(), ": ", ec.message())));
      }
      return;
    }
    DeliverBytes(std::string_view(read_buffer_.data(), n));
    if (!finished()) Read();
  }

  template <typename Handler>
  void AsyncWrite(asio::const_buffer chunk, Handler&& handler) {
    asio::async_write(socket_, chunk, std::forward<Handler>(handler));
  }

  // Everything queued is written: end our side, then wait for the peer's.
  void EndSending() {
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

  void OnFinish() {}

  tcp::socket socket_;
  std::vector<char> read_buffer_;
  bool reading_ = false;
};

}  // namespace

std::unique_ptr<Transport> MakeTcpTransport(tcp::socket socket, std::string peer, const TcpOptions& options) {
  return std::make_unique<internal::QueuedConnectionTransport<TcpConnection>>(
      std::make_shared<TcpConnection>(std::move(socket), std::move(peer), options));
}

}  // namespace moq_stats::bridge
