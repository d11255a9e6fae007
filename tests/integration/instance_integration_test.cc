// End to end: one daemon per checkpoint and per socket. A second daemon
// started with the settings of one that runs (an accidental second
// `make run`, a restarted container while the old one drains) exits 1
// naming the first, and leaves it, its socket file and its port alone.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

// Long enough for a second daemon to start and give up; it is killed when it
// runs longer (which fails the test).
constexpr absl::Duration kSecondRunLimit = absl::Seconds(8);
// A refusal is quick: no waiting on anything.
constexpr absl::Duration kPromptExit = absl::Seconds(4);

// A relay's batch (one broadcast on `path`, 500 bytes) is applied by the
// daemon behind `channel` and shows on the level of `path`.
::testing::AssertionResult RelayBumpCounts(const std::shared_ptr<grpc::Channel>& channel, const std::string& path) {
  RelayStream relay(channel);
  pb::Welcome welcome;
  grpc::Status status = relay.Open("instance-relay-" + path, &welcome);
  if (!status.ok()) return ::testing::AssertionFailure() << "Open: " << Describe(status);
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, path, pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 1, 0, 0, 500, 1, 0});
  if (!relay.Send(batch)) return ::testing::AssertionFailure() << "the stream broke";
  if (status = relay.WaitAck(1); !status.ok()) return ::testing::AssertionFailure() << "ack: " << Describe(status);
  relay.Close().ok();
  pb::Level level;
  auto stub = pb::StatsService::NewStub(channel);
  if (status = GetLevel(*stub, path, &level); !status.ok()) {
    return ::testing::AssertionFailure() << "GetLevel: " << Describe(status);
  }
  const uint64_t bytes = SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).bytes();
  if (bytes != 500) return ::testing::AssertionFailure() << "level \"" << path << "\" has " << bytes << " bytes";
  return ::testing::AssertionSuccess();
}

// The inode of the socket file at `path`, or 0 when there is no socket.
ino_t SocketInode(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
  return st.st_ino;
}

// Runs a second daemon in `first`'s directory with `args`; expects it to
// exit 1 promptly. Its output.
std::string ExpectSecondRefused(const DaemonProcess& first, const std::vector<std::string>& args) {
  const absl::Time started = absl::Now();
  CommandResult second = RunSidecarCommand(args, first.dir(), kSecondRunLimit);
  const absl::Duration took = absl::Now() - started;
  EXPECT_EQ(second.exit_code, 1) << (second.exit_code == -1 ? "the second daemon kept running\n" : "") << second.err;
  EXPECT_LT(took, kPromptExit) << second.err;
  EXPECT_TRUE(first.running());
  return second.out + second.err;
}

TEST(InstanceIntegrationTest, SecondDaemonWithTheSameSettingsExits1NamingTheFirst) {
  DaemonProcess first;
  ASSERT_TRUE(first.Start());
  ASSERT_TRUE(RelayBumpCounts(first.channel(), "before"));
  const ino_t socket = SocketInode(first.socket_path());
  ASSERT_NE(socket, 0u);

  const std::string output = ExpectSecondRefused(first, first.args());
  EXPECT_THAT(output, HasSubstr(absl::StrCat("pid ", first.pid())));
  EXPECT_THAT(output, HasSubstr(first.dir() + "/moq-stats.checkpoint.lock"));

  // The first is untouched: same socket file, still counting, and its lock
  // is still there.
  EXPECT_EQ(SocketInode(first.socket_path()), socket) << "the second daemon replaced the first's socket file";
  EXPECT_TRUE(RelayBumpCounts(first.channel(), "after"));
  struct stat st;
  EXPECT_EQ(lstat((first.dir() + "/moq-stats.checkpoint.lock").c_str(), &st), 0);
  // Stopped, the first removes its lock: a new daemon can start there.
  EXPECT_EQ(first.Terminate(), 0);
  EXPECT_NE(lstat((first.dir() + "/moq-stats.checkpoint.lock").c_str(), &st), 0);
  ASSERT_TRUE(first.Restart());
  EXPECT_EQ(first.Terminate(), 0);
}

TEST(InstanceIntegrationTest, WithoutCheckpointsALiveSocketIsStillRefused) {
  DaemonProcess first({"--checkpoint-path="});
  ASSERT_TRUE(first.Start());
  const ino_t socket = SocketInode(first.socket_path());
  ASSERT_NE(socket, 0u);

  std::vector<std::string> args = first.args();
  args.push_back("--admin-listen=");  // what the socket alone does
  const std::string output = ExpectSecondRefused(first, args);
  EXPECT_THAT(output, HasSubstr(first.socket_path()));
  EXPECT_THAT(output, HasSubstr(absl::StrCat("pid ", first.pid())));

  EXPECT_EQ(SocketInode(first.socket_path()), socket) << "the second daemon replaced the first's socket file";
  EXPECT_TRUE(RelayBumpCounts(first.channel(), "counted"));
}

TEST(InstanceIntegrationTest, SecondDaemonCannotShareTheTcpPort) {
  const int port = PickFreeLoopbackPort();
  ASSERT_NE(port, 0);
  DaemonProcess first({"--admin-listen="});
  first.ListenOnTcp(port);
  ASSERT_TRUE(first.Start());
  ASSERT_TRUE(RelayBumpCounts(first.channel(), "before"));

  // The same settings: the checkpoint's lock refuses it.
  std::string output = ExpectSecondRefused(first, first.args());
  EXPECT_THAT(output, HasSubstr(absl::StrCat("pid ", first.pid())));

  // Without checkpoints, nothing but the port is shared: binding it fails
  // (gRPC would otherwise share it with SO_REUSEPORT).
  std::vector<std::string> args = first.args();
  args.push_back("--checkpoint-path=");
  output = ExpectSecondRefused(first, args);
  EXPECT_THAT(output, HasSubstr(absl::StrCat("127.0.0.1:", port)));

  // Every connection still reaches the first: it counts all of them.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(RelayBumpCounts(NewTestChannel(first.target()), absl::StrCat("after", i)));
  }
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
