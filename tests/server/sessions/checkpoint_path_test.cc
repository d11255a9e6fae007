// ResolveCheckpointPath (what --checkpoint-path may name) and
// MoveCheckpointAside (only a regular file is ever moved).

#include "server/sessions/checkpoint_path.h"

#include <limits.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/sessions/test_tools/file_kinds.h"

namespace moq_stats::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNowUnixMs = 1700000000123;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

class CheckpointPathTest : public test::FileKindsTest {
 protected:
  void SetUp() override {
    test::FileKindsTest::SetUp();
    // The temporary directory may itself be reached through a link.
    char real[PATH_MAX];
    ASSERT_NE(::realpath(dir_.c_str(), real), nullptr);
    real_dir_ = real;
  }

  static void WriteFile(const std::string& path) { std::ofstream(path) << "checkpoint"; }

  // Expects `path` refused at start as `kind`, and left as it is.
  void ExpectInvalid(const std::string& path, const std::string& kind) {
    const mode_t type = TypeOf(path);
    const absl::StatusOr<std::string> resolved = ResolveCheckpointPath(path);
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << resolved.status();
    EXPECT_THAT(Message(resolved.status()), HasSubstr(path));
    EXPECT_THAT(Message(resolved.status()), HasSubstr(kind));
    EXPECT_EQ(TypeOf(path), type);
  }

  std::string real_dir_;
};

TEST_F(CheckpointPathTest, NothingThereYetIsAFirstStart) {
  EXPECT_EQ(ResolveCheckpointPath(path_).value(), real_dir_ + "/checkpoint");
  EXPECT_THAT(ListDirectory(), ::testing::IsEmpty());
}

TEST_F(CheckpointPathTest, RegularFileIsItself) {
  WriteFile(path_);
  EXPECT_EQ(ResolveCheckpointPath(path_).value(), real_dir_ + "/checkpoint");
}

TEST_F(CheckpointPathTest, RelativePathIsUnderTheWorkingDirectory) {
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  const absl::StatusOr<std::string> resolved = ResolveCheckpointPath("checkpoint");
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_EQ(resolved.value(), real_dir_ + "/checkpoint");
}

TEST_F(CheckpointPathTest, SymbolicLinkToARegularFileIsTheFile) {
  const std::string target = dir_ + "/data";
  WriteFile(target);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_EQ(ResolveCheckpointPath(path_).value(), real_dir_ + "/data");
  EXPECT_EQ(TypeOf(path_), static_cast<mode_t>(S_IFLNK));
}

TEST_F(CheckpointPathTest, LinkedDirectoryIsResolvedEvenWithNoFileYet) {
  ASSERT_EQ(::mkdir((dir_ + "/volume").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((dir_ + "/volume").c_str(), (dir_ + "/state").c_str()), 0);
  EXPECT_EQ(ResolveCheckpointPath(dir_ + "/state/checkpoint").value(), real_dir_ + "/volume/checkpoint");
}

TEST_F(CheckpointPathTest, MissingDirectoryIsLeftForTheStartToReport) {
  EXPECT_EQ(ResolveCheckpointPath(dir_ + "/missing/checkpoint").value(), dir_ + "/missing/checkpoint");
}

TEST_F(CheckpointPathTest, SymbolicLinkToNothingIsInvalid) {
  ASSERT_EQ(::symlink((dir_ + "/nowhere").c_str(), path_.c_str()), 0);
  ExpectInvalid(path_, "symbolic link to nothing");
}

TEST_F(CheckpointPathTest, SymbolicLinkToAFifoIsInvalid) {
  ASSERT_TRUE(MakeFifo(dir_ + "/fifo"));
  ASSERT_EQ(::symlink((dir_ + "/fifo").c_str(), path_.c_str()), 0);
  ExpectInvalid(path_, "symbolic link to a FIFO, not to a regular file");
}

TEST_F(CheckpointPathTest, FifoIsInvalid) {
  ASSERT_TRUE(MakeFifo(path_));
  ExpectInvalid(path_, "is a FIFO, not a regular file");
}

TEST_F(CheckpointPathTest, CharacterDeviceIsInvalid) {
  if (!MakeCharDevice(path_, 3)) GTEST_SKIP() << "cannot make a device node: " << std::strerror(errno);
  ExpectInvalid(path_, "is a character device, not a regular file");
  // The real one is refused the same way, by looking at it only.
  ExpectInvalid("/dev/null", "is a character device");
  ExpectInvalid("/dev/full", "is a character device");
}

TEST_F(CheckpointPathTest, DirectoryIsInvalid) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ExpectInvalid(path_, "is a directory, not a regular file");
}

TEST_F(CheckpointPathTest, SocketIsInvalid) {
  ASSERT_TRUE(MakeSocketFile(path_));
  ExpectInvalid(path_, "is a socket, not a regular file");
}

TEST_F(CheckpointPathTest, PathThroughAFileIsInvalid) {
  WriteFile(dir_ + "/file");
  ExpectInvalid(dir_ + "/file/checkpoint", "Not a directory");
}

TEST_F(CheckpointPathTest, RegularFileIsMovedAside) {
  WriteFile(path_);
  EXPECT_EQ(MoveCheckpointAside(path_, kNowUnixMs).value(), path_ + ".corrupt-1700000000123");
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint.corrupt-1700000000123"));
}

TEST_F(CheckpointPathTest, OnlyARegularFileIsMovedAside) {
  ASSERT_TRUE(MakeFifo(path_));
  const absl::StatusOr<std::string> moved = MoveCheckpointAside(path_, kNowUnixMs);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kFailedPrecondition) << moved.status();
  EXPECT_THAT(Message(moved.status()), HasSubstr("is a FIFO, not a regular file; not moving it"));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

}  // namespace
}  // namespace moq_stats::server
