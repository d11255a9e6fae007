// The instance lock (one sidecar per checkpoint) and the live-socket check
// (a socket another process serves is never removed).

#include "server/instance_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

class InstanceLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "instance_lock_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    dir_ = templ;
    lock_path_ = InstanceLockPath(dir_ + "/moq-stats.checkpoint");
    socket_path_ = dir_ + "/s.sock";
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }
  static bool Exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }
  static ino_t InodeOf(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
  }

  // A unix socket bound at socket_path_; listening unless `listen` is false
  // (a socket file nobody accepts on). Returns the descriptor.
  int BindSocket(bool listen) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path_.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0) << std::strerror(errno);
    if (listen) {
      EXPECT_EQ(::listen(fd, 4), 0) << std::strerror(errno);
    }
    return fd;
  }

  std::string dir_;
  std::string lock_path_;
  std::string socket_path_;
};

TEST_F(InstanceLockTest, LockFileIsBesideTheCheckpoint) {
  EXPECT_EQ(InstanceLockPath("/var/lib/moq-stats/moq-stats.checkpoint"),
            "/var/lib/moq-stats/moq-stats.checkpoint.lock");
}

TEST_F(InstanceLockTest, TheOwnerWritesItsPidAndRemovesTheFileWhenDone) {
  {
    absl::StatusOr<std::unique_ptr<InstanceLock>> lock = InstanceLock::Acquire(lock_path_);
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_EQ((*lock)->path(), lock_path_);
    EXPECT_EQ(ReadFile(lock_path_), absl::StrCat(::getpid(), "\n"));
  }
  EXPECT_FALSE(Exists(lock_path_));
  // And the next one takes it.
  absl::StatusOr<std::unique_ptr<InstanceLock>> again = InstanceLock::Acquire(lock_path_);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(InstanceLockTest, SecondHolderIsRefusedNamingTheFirst) {
  absl::StatusOr<std::unique_ptr<InstanceLock>> first = InstanceLock::Acquire(lock_path_);
  ASSERT_TRUE(first.ok()) << first.status();
  // flock(2) locks conflict between open files, within one process too.
  absl::StatusOr<std::unique_ptr<InstanceLock>> second = InstanceLock::Acquire(lock_path_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(Message(second.status()), HasSubstr(absl::StrCat("pid ", ::getpid())));
  EXPECT_THAT(Message(second.status()), HasSubstr(lock_path_));
  EXPECT_THAT(Message(second.status()), HasSubstr("one sidecar per checkpoint"));
  // The refused one leaves the file (and the first's pid in it) alone.
  EXPECT_EQ(ReadFile(lock_path_), absl::StrCat(::getpid(), "\n"));
}

TEST_F(InstanceLockTest, LockHeldByAnotherProcessNamesItsPid) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Holds the lock as a sidecar would, until killed.
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT, 0644);
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0 || ::write(fd, pid.data(), pid.size()) < 0) ::_exit(1);
    if (::write(ready[1], "x", 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  absl::StatusOr<std::unique_ptr<InstanceLock>> lock = InstanceLock::Acquire(lock_path_);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition) << lock.status();
  EXPECT_THAT(Message(lock.status()), HasSubstr(absl::StrCat("pid ", child)));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  // Its lock went with it; the file it left behind is taken over.
  lock = InstanceLock::Acquire(lock_path_);
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_EQ(ReadFile(lock_path_), absl::StrCat(::getpid(), "\n"));
}

TEST_F(InstanceLockTest, MissingDirectoryIsAnErrorNamingThePath) {
  const std::string path = dir_ + "/missing/moq-stats.checkpoint.lock";
  absl::StatusOr<std::unique_ptr<InstanceLock>> lock = InstanceLock::Acquire(path);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kNotFound) << lock.status();
  EXPECT_THAT(Message(lock.status()), HasSubstr(path));
}

TEST_F(InstanceLockTest, LockPathThatIsNotARegularFileIsRefused) {
  ASSERT_EQ(::mkfifo(lock_path_.c_str(), 0600), 0);
  absl::StatusOr<std::unique_ptr<InstanceLock>> lock = InstanceLock::Acquire(lock_path_);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition) << lock.status();
  EXPECT_THAT(Message(lock.status()), HasSubstr("not a regular file"));
  ASSERT_EQ(::unlink(lock_path_.c_str()), 0);
  ASSERT_EQ(::symlink((dir_ + "/elsewhere").c_str(), lock_path_.c_str()), 0);
  lock = InstanceLock::Acquire(lock_path_);
  EXPECT_FALSE(lock.ok());
  EXPECT_FALSE(Exists(dir_ + "/elsewhere")) << "the lock followed a symbolic link";
}

TEST_F(InstanceLockTest, NoSocketFileIsNothingToRemove) { EXPECT_TRUE(RemoveStaleSocket(socket_path_).ok()); }

TEST_F(InstanceLockTest, SocketNobodyAcceptsOnIsRemoved) {
  ::close(BindSocket(/*listen=*/false));
  ASSERT_TRUE(Exists(socket_path_));
  EXPECT_TRUE(RemoveStaleSocket(socket_path_).ok());
  EXPECT_FALSE(Exists(socket_path_));
}

TEST_F(InstanceLockTest, SocketAProcessServesIsLeftAloneNamingIt) {
  const int fd = BindSocket(/*listen=*/true);
  const ino_t inode = InodeOf(socket_path_);
  const absl::Status status = RemoveStaleSocket(socket_path_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(Message(status), HasSubstr("--listen unix:" + socket_path_));
  EXPECT_THAT(Message(status), HasSubstr(absl::StrCat("pid ", ::getpid())));
  EXPECT_EQ(InodeOf(socket_path_), inode);
  ::close(fd);
}

TEST_F(InstanceLockTest, SocketWithAFullBacklogIsStillServed) {
  const int fd = BindSocket(/*listen=*/false);
  ASSERT_EQ(::listen(fd, 0), 0);
  // Fill the backlog with connections nobody accepts (bounded).
  std::vector<int> clients;
  for (int i = 0; i < 64; ++i) {
    const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path_.c_str(), sizeof(address.sun_path) - 1);
    const bool connected = ::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
    clients.push_back(client);
    if (!connected) break;
  }
  const absl::Status status = RemoveStaleSocket(socket_path_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(Exists(socket_path_));
  for (int client : clients) ::close(client);
  ::close(fd);
}

TEST_F(InstanceLockTest, FileThatIsNotASocketIsLeftAlone) {
  { std::ofstream(socket_path_) << "precious"; }
  const absl::Status status = RemoveStaleSocket(socket_path_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(Message(status), HasSubstr("not a socket"));
  EXPECT_EQ(ReadFile(socket_path_), "precious");
}

}  // namespace
}  // namespace moq_stats::server
