// A fresh directory per test, and the kinds of file a checkpoint path may
// wrongly name, made in it: FIFOs, device nodes of our own (never the real
// /dev/null or /dev/full: a bug under test must not be able to rename them),
// sockets, symbolic links, sparse files.

#ifndef MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_FILE_KINDS_H_
#define MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_FILE_KINDS_H_

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moq_stats::server::test {

class FileKindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "file_kinds_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    dir_ = templ;
    path_ = dir_ + "/checkpoint";
  }

  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  // The names in the test directory, sorted.
  std::vector<std::string> ListDirectory() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // The S_IFMT bits of what is at `path`, 0 when nothing is.
  static mode_t TypeOf(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
  }

  static ::testing::AssertionResult MakeFifo(const std::string& path) {
    if (::mkfifo(path.c_str(), 0600) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "mkfifo " << path << ": " << std::strerror(errno);
  }

  // A character device node at `path` with the numbers of /dev/null (1, 3)
  // or /dev/full (1, 7); false when this process may not make one.
  static bool MakeCharDevice(const std::string& path, unsigned minor) {
    return ::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0;
  }

  // A unix socket file at `path`, bound and closed.
  static ::testing::AssertionResult MakeSocketFile(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    const int error_number = errno;
    ::close(fd);
    if (rc == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "bind " << path << ": " << std::strerror(error_number);
  }

  // A file of `size` bytes that takes no room on disk (all a hole).
  static ::testing::AssertionResult MakeSparseFile(const std::string& path, uint64_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return ::testing::AssertionFailure() << "open " << path << ": " << std::strerror(errno);
    const int rc = ::ftruncate(fd, static_cast<off_t>(size));
    const int error_number = errno;
    ::close(fd);
    if (rc == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "ftruncate " << path << ": " << std::strerror(error_number);
  }

  std::string dir_;
  std::string path_;  // <dir_>/checkpoint
};

}  // namespace moq_stats::server::test

#endif  // MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_FILE_KINDS_H_
