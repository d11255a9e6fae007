#include "server/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace moq_stats::server {

absl::Status SendSdNotify(std::string_view socket_path, std::string_view state) {
  if (socket_path.empty()) return absl::OkStatus();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path) || (socket_path[0] != '/' && socket_path[0] != '@')) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET \"", std::string(socket_path), "\" is not an absolute path or an @abstract name"));
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("NOTIFY_SOCKET: socket: ", std::strerror(errno)));
  const ssize_t sent =
      sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
  const int error = errno;
  close(fd);
  if (sent < 0) {
    return absl::UnavailableError(absl::StrCat("NOTIFY_SOCKET ", std::string(socket_path), ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace moq_stats::server
