#include "tests/integration/test_tools/sse_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace integration {
namespace {

absl::StatusOr<int> Connect(int port, const std::string& target, int receive_buffer) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  if (receive_buffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(e)));
  }
  const std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                           "\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("could not send the request");
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SseClient>> SseClient::OpenUnread(int port, const std::string& target,
                                                                 int receive_buffer) {
  absl::StatusOr<int> fd = Connect(port, target, receive_buffer);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<SseClient>(new SseClient(*fd));
}

absl::StatusOr<std::unique_ptr<SseClient>> SseClient::Open(int port, const std::string& target, int receive_buffer) {
  absl::StatusOr<std::unique_ptr<SseClient>> client = OpenUnread(port, target, receive_buffer);
  if (!client.ok()) return client.status();
  SseClient& c = **client;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  size_t end;
  while ((end = c.buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!c.Fill(deadline)) return absl::UnavailableError("no response header");
  }
  c.header_ = absl::AsciiStrToLower(c.buffer_.substr(0, end));
  c.buffer_.erase(0, end + 4);
  // "http/1.1 200 ok"
  if (c.header_.size() < 12 || !absl::SimpleAtoi(c.header_.substr(9, 3), &c.status_)) {
    return absl::UnavailableError(absl::StrCat("not an HTTP response: ", c.header_.substr(0, 40)));
  }
  return client;
}

SseClient::~SseClient() { close(fd_); }

bool SseClient::Fill(absl::Time deadline) {
  if (ended_) return false;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) return false;
  char chunk[16384];
  ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    ended_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::string SseClient::ReadBody(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Fill(deadline)) {
  }
  return std::move(buffer_);
}

std::optional<SseEvent> SseClient::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t end;
    while ((end = buffer_.find("\n\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    const std::string block = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    SseEvent event{"message", ""};
    bool has_data = false;
    size_t pos = 0;
    while (pos <= block.size()) {
      size_t eol = block.find('\n', pos);
      if (eol == std::string::npos) eol = block.size();
      const std::string line = block.substr(pos, eol - pos);
      pos = eol + 1;
      if (line.empty()) continue;
      if (line[0] == ':') {
        ++comments_;
      } else if (line.rfind("event: ", 0) == 0) {
        event.event = line.substr(7);
      } else if (line.rfind("data: ", 0) == 0) {
        if (has_data) event.data.push_back('\n');
        event.data += line.substr(6);
        has_data = true;
      }
    }
    if (has_data) return event;
  }
}

bool SseClient::WaitFor(const std::function<bool(const SseEvent&)>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (std::optional<SseEvent> event = Next(deadline - absl::Now())) {
    if (done(*event)) return true;
  }
  return false;
}

std::optional<google::protobuf::Struct> SseClient::NextRecord(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (records_.empty()) {
    std::optional<SseEvent> event = Next(deadline - absl::Now());
    if (!event) return std::nullopt;
    if (event->event != "watch") continue;
    google::protobuf::ListValue list;
    auto status = google::protobuf::util::JsonStringToMessage(event->data, &list);
    EXPECT_TRUE(status.ok()) << status.message() << " in " << event->data;
    for (const google::protobuf::Value& value : list.values()) {
      EXPECT_TRUE(value.has_struct_value()) << event->data;
      records_.push_back(value.struct_value());
    }
  }
  google::protobuf::Struct record = std::move(records_.front());
  records_.pop_front();
  return record;
}

bool SseClient::WaitForRecord(const std::function<bool(const google::protobuf::Struct&)>& done,
                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (std::optional<google::protobuf::Struct> record = NextRecord(deadline - absl::Now())) {
    if (done(*record)) return true;
  }
  return false;
}

bool SseClient::WaitEnded(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!ended_ && absl::Now() < deadline) {
    Fill(deadline);
    buffer_.clear();
  }
  return ended_;
}

}  // namespace integration
}  // namespace moq_stats
