// The C ABI end to end: c_api_test.c, compiled as C, drives the library
// against the real daemon, and the counts it bumped are read back from the
// daemon's levels, exactly.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

extern char** environ;

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

// The C program (set by tests/client/CMakeLists.txt).
constexpr const char* kCApiTestBinary = MOQSTATS_C_API_TEST_BINARY;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs the C program with `target` to completion (killed after `timeout`),
// its stdout and stderr both to <dir>/c_api_test.log: the exit status (128 +
// the signal that ended it, -1 on timeout) and the output in `out`.
CommandResult RunCApiTest(const std::string& target, const std::string& dir,
                          absl::Duration timeout = absl::Seconds(60)) {
  CommandResult result;
  const std::string log = dir + "/c_api_test.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> args = {kCApiTestBinary, target};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    result.err = std::string("posix_spawn ") + kCApiTestBinary + ": " + std::strerror(spawned);
    return result;
  }
  const absl::Time until = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) break;
    if (reaped < 0 && errno != EINTR) {
      result.err = std::string("waitpid: ") + std::strerror(errno);
      return result;
    }
    if (absl::Now() >= until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.out = ReadWholeFile(log);
      result.err = "timed out";
      return result;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.out = ReadWholeFile(log);
  return result;
}

class CApiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }

  DaemonProcess daemon_{{"--stats-levels=2"}};
};

TEST_F(CApiIntegrationTest, WhatTheCProgramBumpedIsWhatTheSidecarCounts) {
  const CommandResult run = RunCApiTest(daemon_.target(), daemon_.dir());
  ASSERT_EQ(run.exit_code, 0) << "c_api_test " << daemon_.target() << ":\n" << run.out << run.err;

  // As listed above RunSession in c_api_test.c, on capi/live/cam1 and so on
  // every level of it: the root, capi and capi/live. Nothing from the paths
  // under the prefix, the invalid path, the failed calls, the disabled
  // library or the bumps after Shutdown.
  pb::Snapshot external_publisher = MakeSnapshot(1, 1, 1, 1, 1000 * 100, 1000, 10);
  const pb::Snapshot external_subscriber = MakeSnapshot(0, 0, 1, 1, 300 * 50, 300, 3);
  pb::Snapshot internal_subscriber = MakeSnapshot(1, 1, 2, 2, 2 * 10 * 20, 2 * 10, 2);
  const uint64_t path_bytes = std::string("capi/live/cam1").size();
  external_publisher.set_announced(1);
  external_publisher.set_announced_closed(1);
  external_publisher.set_announced_bytes(2 * path_bytes);
  external_publisher.set_fetches(3);
  external_publisher.set_datagrams(5);
  internal_subscriber.set_announced(2);
  internal_subscriber.set_announced_closed(2);
  internal_subscriber.set_announced_bytes(4 * path_bytes);
  internal_subscriber.set_fetches(1);
  const pb::Snapshot nothing;

  auto stub = daemon_.NewStub();
  for (const std::string key : {"", "capi", "capi/live"}) {
    SCOPED_TRACE("level \"" + key + "\"");
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    EXPECT_TRUE(SnapshotEq(level.external_publisher(), external_publisher));
    EXPECT_TRUE(SnapshotEq(level.external_subscriber(), external_subscriber));
    EXPECT_TRUE(SnapshotEq(level.internal_publisher(), nothing));
    EXPECT_TRUE(SnapshotEq(level.internal_subscriber(), internal_subscriber));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        const pb::Snapshot& s = SnapshotOf(level, tier, role);
        EXPECT_EQ(s.subscriptions_closed(), s.subscriptions()) << TierRoleName(tier, role);
        EXPECT_EQ(s.broadcasts_closed(), s.broadcasts()) << TierRoleName(tier, role);
        EXPECT_EQ(s.announced_closed(), s.announced()) << TierRoleName(tier, role);
      }
    }
  }

  // Bumps after Shutdown are not sent: their path never reached the daemon.
  pb::Level after;
  const grpc::Status status = GetLevel(*stub, "capi/after", &after);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
