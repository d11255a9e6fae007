#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_RAW_PEERS_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_RAW_PEERS_H_

// Plain Boost.Beast peers that show exactly what goes on the wire: a
// WebSocket client offering a given Sec-WebSocket-Protocol list, and a
// server answering a given subprotocol (or an HTTP error). Asynchronous, on
// the test's io_context; each records what it saw for the test to assert.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace moq_stats::bridge::test {

using RawStream = boost::beast::websocket::stream<boost::asio::ip::tcp::socket, false>;

// Connects to 127.0.0.1:`port` and performs the WebSocket handshake, adding
// one Sec-WebSocket-Protocol header per entry of `protocol_headers`.
class RawWebSocketClient {
 public:
  RawWebSocketClient(boost::asio::io_context& io, uint16_t port, std::vector<std::string> protocol_headers)
      : ws_(io), port_(port), protocol_headers_(std::move(protocol_headers)) {}

  void Start() {
    auto endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_);
    ws_.next_layer().async_connect(endpoint, [this](boost::system::error_code ec) {
      if (ec) {
        Done(ec);
        return;
      }
      std::vector<std::string> headers = protocol_headers_;
      ws_.set_option(
          boost::beast::websocket::stream_base::decorator([headers](boost::beast::websocket::request_type& request) {
            for (const std::string& value : headers) {
              request.insert(boost::beast::http::field::sec_websocket_protocol, value);
            }
          }));
      ws_.async_handshake(response_, "127.0.0.1:" + std::to_string(port_), "/",
                          [this](boost::system::error_code ec) { Done(ec); });
    });
  }

  bool done() const { return done_; }
  const boost::system::error_code& error() const { return error_; }
  const boost::beast::websocket::response_type& response() const { return response_; }
  std::string chosen() const { return std::string(response_[boost::beast::http::field::sec_websocket_protocol]); }
  RawStream& ws() { return ws_; }

 private:
  void Done(boost::system::error_code ec) {
    error_ = ec;
    done_ = true;
  }

  RawStream ws_;
  const uint16_t port_;
  const std::vector<std::string> protocol_headers_;
  boost::beast::websocket::response_type response_;
  boost::system::error_code error_;
  bool done_ = false;
};

// Accepts one connection on 127.0.0.1 (a free port), reads the upgrade
// request and answers it: a WebSocket accept naming `subprotocol` (or none
// when nullopt) when `http_status` is 101, else that HTTP status.
class RawWebSocketServer {
 public:
  RawWebSocketServer(boost::asio::io_context& io, std::optional<std::string> subprotocol, unsigned http_status = 101)
      : acceptor_(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        ws_(io),
        subprotocol_(std::move(subprotocol)),
        http_status_(http_status) {}

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Start() {
    acceptor_.async_accept(ws_.next_layer(), [this](boost::system::error_code ec) {
      if (ec) return;
      boost::beast::http::async_read(ws_.next_layer(), buffer_, request_,
                                     [this](boost::system::error_code ec, size_t) { OnRequest(ec); });
    });
  }

  bool got_request() const { return got_request_; }
  bool accepted() const { return accepted_; }
  const boost::beast::http::request<boost::beast::http::string_body>& request() const { return request_; }
  // Every Sec-WebSocket-Protocol header line of the request.
  std::vector<std::string> offered_headers() const {
    std::vector<std::string> out;
    auto range = request_.equal_range(boost::beast::http::field::sec_websocket_protocol);
    for (auto it = range.first; it != range.second; ++it) out.emplace_back(it->value());
    return out;
  }
  RawStream& ws() { return ws_; }

 private:
  void OnRequest(boost::system::error_code ec) {
    if (ec) return;
    got_request_ = true;
    if (http_status_ != 101) {
      response_.version(11);
      response_.result(http_status_);
      response_.body() = "refused by test";
      response_.prepare_payload();
      boost::beast::http::async_write(ws_.next_layer(), response_, [](boost::system::error_code, size_t) {});
      return;
    }
    std::optional<std::string> answer = subprotocol_;
    ws_.set_option(
        boost::beast::websocket::stream_base::decorator([answer](boost::beast::websocket::response_type& response) {
          if (answer.has_value()) {
            response.set(boost::beast::http::field::sec_websocket_protocol, *answer);
          }
        }));
    ws_.async_accept(request_, [this](boost::system::error_code ec) { accepted_ = !ec; });
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  RawStream ws_;
  const std::optional<std::string> subprotocol_;
  const unsigned http_status_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> request_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  bool got_request_ = false;
  bool accepted_ = false;
};

}  // namespace moq_stats::bridge::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_TRANSPORT_TEST_TOOLS_RAW_PEERS_H_
