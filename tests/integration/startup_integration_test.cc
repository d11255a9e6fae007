// End to end: what the daemon does with its socket file and its flags when
// it starts.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

// Leaves a socket file at `path` as a process that died would: bound, then
// closed without unlinking.
::testing::AssertionResult LeaveStaleSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return ::testing::AssertionFailure() << "socket: " << std::strerror(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int e = errno;
  close(fd);
  if (rc != 0) return ::testing::AssertionFailure() << "bind " << path << ": " << std::strerror(e);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return ::testing::AssertionFailure() << path << " is not a socket file";
  }
  return ::testing::AssertionSuccess();
}

TEST(StartupIntegrationTest, StaleSocketFileIsRemovedAtStart) {
  DaemonProcess daemon;
  ASSERT_TRUE(LeaveStaleSocket(daemon.socket_path()));
  ASSERT_TRUE(daemon.Start());  // serving on that very path
  EXPECT_THAT(daemon.Log(), HasSubstr("removed stale socket " + daemon.socket_path()));
  pb::Level root;
  grpc::Status status = GetLevel(*daemon.NewStub(), "", &root);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

TEST(StartupIntegrationTest, SocketFileHasMode0660AndIsRemovedAtShutdown) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  struct stat st;
  ASSERT_EQ(lstat(daemon.socket_path().c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u) << std::oct << (st.st_mode & 07777);
  EXPECT_EQ(daemon.Terminate(), 0);
  EXPECT_NE(lstat(daemon.socket_path().c_str(), &st), 0) << "the socket file outlived the daemon";
}

TEST(StartupIntegrationTest, FileThatIsNotASocketIsLeftAloneAndStartFails) {
  TempDir dir;
  const std::string path = dir.path() + "/s.sock";
  { std::ofstream(path) << "precious"; }
  CommandResult result = RunSidecarCommand(
      {"--listen", "unix:" + path, "--admin-listen=", "--checkpoint-path=", "--log-level=info"}, dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err + result.out, HasSubstr("not a socket"));
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(StartupIntegrationTest, BadFlagValueExitsWithStatus2NamingTheFlag) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"--grace=banana"}, "--grace"},
      {{"--max-sessions=0"}, "--max-sessions"},
      {{"--stats-levels", "many"}, "--stats-levels"},
      {{"--checkpoint-interval=-1s"}, "--checkpoint-interval"},
      {{"--log-level=loud"}, "--log-level"},
      {{"--listen"}, "--listen"},
      {{"--no-such-flag=1"}, "--no-such-flag"},
  };
  for (const Case& c : cases) {
    CommandResult result = RunSidecarCommand(c.args, dir.path());
    EXPECT_EQ(result.exit_code, 2) << c.flag << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(c.flag));
  }
}

TEST(StartupIntegrationTest, CheckConfigWithValidFlagsExits0) {
  TempDir dir;
  CommandResult result = RunSidecarCommand(
      {"--check-config", "--listen", "unix:" + dir.path() + "/s.sock", "--stats-levels=3", "--grace=300ms"},
      dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("stats-levels=3\n"));
  EXPECT_THAT(result.out, HasSubstr("grace=300ms\n"));
  EXPECT_THAT(result.out, HasSubstr("configuration OK"));
  // Checking starts nothing.
  struct stat st;
  EXPECT_NE(lstat((dir.path() + "/s.sock").c_str(), &st), 0);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
