#include "server/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace moq_stats::server {
namespace {

// Tries of the open-then-lock sequence: each fails only when the holder
// removed the file in between (it was shutting down), so a few suffice.
constexpr int kLockAttempts = 10;

// "pid 1234", or "pid unknown" when the holder has not written it yet.
std::string HolderOf(int fd) {
  char buffer[32];
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  int64_t pid = 0;
  if (n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buffer, static_cast<size_t>(n))), &pid)) {
    return absl::StrCat("pid ", pid);
  }
  return "pid unknown";
}

// True when `fd` and `path` are the same file.
bool SameFile(int fd, const std::string& path) {
  struct stat opened, named;
  if (::fstat(fd, &opened) != 0 || ::lstat(path.c_str(), &named) != 0) return false;
  return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

// Connects to the unix socket at `path` without blocking. 0 when a process
// accepts there (its pid in `*peer`, 0 when unknown), or the errno.
int ConnectUnix(const std::string& path, pid_t* peer) {
  *peer = 0;
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return ENAMETOOLONG;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int error_number = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) *peer = credentials.pid;
  } else {
    error_number = errno;
  }
  ::close(fd);
  return error_number;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InstanceLock>> InstanceLock::Acquire(const std::string& path) {
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    // O_NONBLOCK: a FIFO put there must not hang the start.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open the instance lock ", path));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat("the instance lock ", path, " is not a regular file"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error_number = errno;
      if (error_number != EWOULDBLOCK) {
        ::close(fd);
        return absl::ErrnoToStatus(error_number, absl::StrCat("cannot lock the instance lock ", path));
      }
      std::string holder = HolderOf(fd);
      ::close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("another moq-stats-sidecar (", holder, ") runs with this checkpoint: it holds ", path,
                       "; one sidecar per checkpoint (stop that one, or give this one its own --checkpoint-path)"));
    }
    // The holder removes the file before it lets go: a lock taken on a file
    // that is no longer at `path` holds nothing. Start over on the new one.
    if (!SameFile(fd, path)) {
      ::close(fd);
      continue;
    }
    const std::string pid = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      // The pid only makes a refusal message clearer; the lock holds anyway.
      MOQSTATS_LOG(WARNING) << "cannot write the pid into the instance lock " << path << ": " << std::strerror(errno);
    }
    return std::unique_ptr<InstanceLock>(new InstanceLock(path, fd));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot lock the instance lock ", path, ": it was replaced ", kLockAttempts, " times in a row"));
}

InstanceLock::~InstanceLock() {
  // Removed while still locked, so that nobody locks the file just before it
  // goes; Acquire starts over when it did.
  if (SameFile(fd_, path_)) ::unlink(path_.c_str());
  ::close(fd_);
}

std::string InstanceLockPath(const std::string& checkpoint_path) { return checkpoint_path + ".lock"; }

absl::Status RemoveStaleSocket(const std::string& path) {
  const std::string listen = absl::StrCat("--listen unix:", path);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, absl::StrCat(listen, ": cannot inspect the file"));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(listen, ": the file exists and is not a socket; not removing it"));
  }
  pid_t peer = 0;
  const int error_number = ConnectUnix(path, &peer);
  // EAGAIN: a listener whose backlog is full, alive all the same.
  if (error_number == 0 || error_number == EAGAIN) {
    return absl::FailedPreconditionError(
        absl::StrCat(listen, ": another process (", peer > 0 ? absl::StrCat("pid ", peer) : "pid unknown",
                     ") accepts connections on this socket, another moq-stats-sidecar?; not removing it"));
  }
  if (error_number == ENOENT) return absl::OkStatus();  // removed meanwhile
  if (error_number != ECONNREFUSED) {
    return absl::ErrnoToStatus(error_number,
                               absl::StrCat(listen, ": cannot tell whether the socket is in use; not removing it"));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat(listen, ": cannot remove the stale socket"));
  }
  MOQSTATS_LOG(INFO) << "removed stale socket " << path;
  return absl::OkStatus();
}

}  // namespace moq_stats::server
