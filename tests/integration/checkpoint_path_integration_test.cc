// End to end: what --checkpoint-path may name. A FIFO, a device or a
// directory is a configuration error the daemon reports at once (exit 2,
// naming the flag) and leaves alone; a symbolic link to a regular file is
// followed, and stays a link.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

constexpr absl::Duration kRunLimit = absl::Seconds(8);
constexpr absl::Duration kPromptExit = absl::Seconds(4);

// Runs the daemon in `dir` on its own socket with --checkpoint-path=`path`
// and expects it to refuse the path at once: exit 2 naming the flag and
// `kind`.
void ExpectRefusedAtStart(const std::string& dir, const std::string& path, const std::string& kind) {
  const absl::Time started = absl::Now();
  CommandResult result = RunSidecarCommand(
      {"--listen", "unix:" + dir + "/s.sock", "--admin-listen=", "--moq-listen=off", "--checkpoint-path=" + path}, dir,
      kRunLimit);
  EXPECT_EQ(result.exit_code, 2) << (result.exit_code == -1 ? "still running after 8 s\n" : "") << result.err;
  EXPECT_LT(absl::Now() - started, kPromptExit);
  EXPECT_THAT(result.err, HasSubstr("--checkpoint-path"));
  EXPECT_THAT(result.err, HasSubstr(kind));
  // Nothing was moved aside or created beside it.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_THAT(name, ::testing::Not(HasSubstr(".corrupt-"))) << "moved aside: " << name;
    EXPECT_THAT(name, ::testing::Not(HasSubstr(".lock"))) << name;
  }
}

mode_t FileType(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & S_IFMT;
}

TEST(CheckpointPathIntegrationTest, FifoIsRefusedAtOnceAndLeftAlone) {
  TempDir dir;
  const std::string fifo = dir.path() + "/checkpoint";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  ExpectRefusedAtStart(dir.path(), fifo, "FIFO");
  EXPECT_EQ(FileType(fifo), static_cast<mode_t>(S_IFIFO));
}

TEST(CheckpointPathIntegrationTest, CharacterDeviceIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string device = dir.path() + "/checkpoint";
  // A /dev/null of our own, so that nothing can happen to the real one.
  if (mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot make a device node here: " << std::strerror(errno);
  }
  ExpectRefusedAtStart(dir.path(), device, "character device");
  EXPECT_EQ(FileType(device), static_cast<mode_t>(S_IFCHR));
}

TEST(CheckpointPathIntegrationTest, DirectoryIsRefused) {
  TempDir dir;
  const std::string directory = dir.path() + "/checkpoint";
  ASSERT_EQ(mkdir(directory.c_str(), 0700), 0) << std::strerror(errno);
  ExpectRefusedAtStart(dir.path(), directory, "directory");
  EXPECT_EQ(FileType(directory), static_cast<mode_t>(S_IFDIR));
}

// A relay's batch of `bytes` bytes on "kept", acknowledged.
::testing::AssertionResult Bump(const DaemonProcess& daemon, uint64_t bytes) {
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  grpc::Status status = relay.Open(absl::StrCat("relay-", bytes), &welcome);
  if (!status.ok()) return ::testing::AssertionFailure() << "Open: " << Describe(status);
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "kept", pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, bytes, 1, 0});
  if (!relay.Send(batch)) return ::testing::AssertionFailure() << "the stream broke";
  if (status = relay.WaitAck(1); !status.ok()) return ::testing::AssertionFailure() << Describe(status);
  return ::testing::AssertionSuccess();
}

uint64_t KeptBytes(const DaemonProcess& daemon) {
  pb::Level level;
  grpc::Status status = GetLevel(*daemon.NewStub(), "kept", &level);
  EXPECT_TRUE(status.ok()) << Describe(status);
  return SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).bytes();
}

TEST(CheckpointPathIntegrationTest, SymlinkToARegularFileIsFollowedAndStaysALink) {
  TempDir data;
  const std::string real = data.path() + "/moq-stats.checkpoint";
  {
    DaemonProcess writer({"--checkpoint-path=" + real});
    ASSERT_TRUE(writer.Start());
    ASSERT_TRUE(Bump(writer, 100));
    ASSERT_EQ(writer.Terminate(), 0);
  }
  ASSERT_EQ(FileType(real), static_cast<mode_t>(S_IFREG));

  TempDir links;
  const std::string link = links.path() + "/checkpoint-link";
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0) << std::strerror(errno);
  {
    DaemonProcess through_link({"--checkpoint-path=" + link});
    ASSERT_TRUE(through_link.Start());
    EXPECT_EQ(KeptBytes(through_link), 100u) << "the checkpoint behind the link was not restored";
    ASSERT_TRUE(Bump(through_link, 20));
    ASSERT_EQ(through_link.Terminate(), 0);
  }
  // The link is still the link, and the file behind it has both batches.
  EXPECT_EQ(FileType(link), static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(FileType(real), static_cast<mode_t>(S_IFREG));
  DaemonProcess reader({"--checkpoint-path=" + real});
  ASSERT_TRUE(reader.Start());
  EXPECT_EQ(KeptBytes(reader), 120u);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
