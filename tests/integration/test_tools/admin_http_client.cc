#include "tests/integration/test_tools/admin_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats {
namespace integration {
namespace {

// The body of a chunked message; nullopt when malformed.
std::optional<std::string> Dechunk(const std::string& raw) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    std::string size_text = raw.substr(pos, eol - pos);
    size_text = size_text.substr(0, size_text.find(';'));
    unsigned long size = std::strtoul(size_text.c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) return out;
    if (pos + size > raw.size()) return std::nullopt;
    out.append(raw, pos, size);
    pos += size + 2;
  }
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target, absl::Duration timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(e)));
  }
  std::string request =
      absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port, "\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      int e = errno;
      close(fd);
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(e)));
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(e)));
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  close(fd);

  size_t head_end = raw.find("\r\n\r\n");
  if (!absl::StartsWith(raw, "HTTP/1.") || head_end == std::string::npos) {
    return absl::UnavailableError(absl::StrCat("not an HTTP response: \"", raw.substr(0, 200), "\""));
  }
  HttpResponse response;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, head_end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::UnavailableError(absl::StrCat("bad status line: \"", lines[0], "\""));
  }
  bool chunked = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = absl::AsciiStrToLower(lines[i]);
    if (absl::StartsWith(line, "transfer-encoding:") && absl::StrContains(line, "chunked")) chunked = true;
  }
  std::string body = raw.substr(head_end + 4);
  if (chunked) {
    std::optional<std::string> dechunked = Dechunk(body);
    if (!dechunked) return absl::UnavailableError("malformed chunked body");
    body = *dechunked;
  }
  response.body = std::move(body);
  return response;
}

std::map<std::string, double> ParsePrometheus(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    std::string value(line.substr(space + 1));
    samples[std::string(line.substr(0, space))] = std::strtod(value.c_str(), nullptr);
  }
  return samples;
}

std::optional<std::map<std::string, double>> ScrapeMetrics(int port, std::string* error) {
  absl::StatusOr<HttpResponse> response = HttpGet(port, "/metrics");
  if (!response.ok()) {
    if (error) *error = response.status().ToString();
    return std::nullopt;
  }
  if (response->status != 200) {
    if (error) *error = absl::StrCat("/metrics answered ", response->status, ": ", response->body);
    return std::nullopt;
  }
  return ParsePrometheus(response->body);
}

}  // namespace integration
}  // namespace moq_stats
