#include "server/sessions/checkpoint_path.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace moq_stats::server {
namespace {

std::string Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

// realpath(3) of `path`, or the errno.
absl::StatusOr<std::string> RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&::free)> resolved(::realpath(path.c_str(), nullptr), &::free);
  if (resolved == nullptr) return absl::ErrnoToStatus(errno, path);
  return std::string(resolved.get());
}

}  // namespace

const char* FileTypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "a file of unknown type";
  }
}

absl::StatusOr<std::string> ResolveCheckpointPath(const std::string& path) {
  const std::string absolute = Absolute(path);
  struct stat st;
  if (::lstat(absolute.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::InvalidArgumentError(absl::StrCat("cannot inspect ", absolute, ": ", std::strerror(errno)));
    }
    // A first start: the file will be made in the directory, which may itself
    // be reached through links. When the directory is missing too, the path
    // stays as given; making the instance lock there reports it.
    const size_t slash = absolute.rfind('/');
    absl::StatusOr<std::string> directory = RealPath(slash == 0 ? "/" : absolute.substr(0, slash));
    if (!directory.ok()) return absolute;
    return absl::StrCat(*directory == "/" ? "" : *directory, absolute.substr(slash));
  }
  if (S_ISLNK(st.st_mode)) {
    struct stat target;
    if (::stat(absolute.c_str(), &target) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(absolute, " is a symbolic link to nothing (", std::strerror(errno),
                       "); point it at a regular file, or give the path where the checkpoint is to be written"));
    }
    if (!S_ISREG(target.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(absolute, " is a symbolic link to ", FileTypeName(target.st_mode), ", not to a regular file"));
    }
  } else if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(absolute, " is ", FileTypeName(st.st_mode),
                                                   ", not a regular file; give the checkpoint's own path"));
  }
  absl::StatusOr<std::string> resolved = RealPath(absolute);
  if (!resolved.ok()) return absl::InvalidArgumentError(absl::StrCat("cannot resolve ", resolved.status().message()));
  return *resolved;
}

absl::StatusOr<std::string> MoveCheckpointAside(const std::string& path, int64_t now_unix_ms) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot inspect ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is ", FileTypeName(st.st_mode), ", not a regular file; not moving it"));
  }
  std::string aside = absl::StrCat(path, ".corrupt-", now_unix_ms);
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("could not move it aside to ", aside));
  }
  return aside;
}

}  // namespace moq_stats::server
