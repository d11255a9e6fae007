// ReadCheckpointFile and WriteCheckpointFile on paths that are not a regular
// file: they are never opened for reading, renamed aside or replaced. And a
// regular file over the size cap is refused without being read.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/checkpoint_file.h"
#include "tests/server/sessions/test_tools/file_kinds.h"

namespace moq_stats::server {
namespace {

using ::moq::stats::v1::Checkpoint;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNowUnixMs = 1700000000123;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

Checkpoint SampleCheckpoint() {
  Checkpoint checkpoint;
  checkpoint.set_format(1);
  checkpoint.set_taken_unix_ms(kNowUnixMs);
  checkpoint.add_levels()->set_key("");
  return checkpoint;
}

class CheckpointFileKindsTest : public test::FileKindsTest {
 protected:
  // Reads the checkpoint at path_ and expects it refused as `kind`, with
  // nothing moved or created.
  void ExpectReadRefused(const std::string& kind) {
    const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition) << read.status();
    EXPECT_THAT(Message(read.status()), HasSubstr(path_));
    EXPECT_THAT(Message(read.status()), HasSubstr("is " + kind + ", not a regular file"));
    EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
  }

  // Writes a checkpoint at path_ and expects it refused as `kind`, with
  // what is there left alone and no temporary file left behind.
  void ExpectWriteRefused(const std::string& kind) {
    const mode_t type = TypeOf(path_);
    const absl::Status status = WriteCheckpointFile(path_, SampleCheckpoint());
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(Message(status), HasSubstr("is " + kind + ", not a regular file; not replacing it"));
    EXPECT_EQ(TypeOf(path_), type);
    EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
  }
};

TEST_F(CheckpointFileKindsTest, FifoIsNeitherOpenedNorReplaced) {
  ASSERT_TRUE(MakeFifo(path_));
  // Opening a FIFO for reading blocks until a writer comes: read from
  // another thread, and be that writer if it is still waiting after 5 s.
  auto read = std::async(std::launch::async, [this] { return ReadCheckpointFile(path_, kNowUnixMs); });
  if (read.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "ReadCheckpointFile blocked on the FIFO";
    const int writer = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) ::close(writer);
  }
  const absl::StatusOr<Checkpoint> result = read.get();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
  EXPECT_THAT(Message(result.status()), HasSubstr("is a FIFO, not a regular file"));
  EXPECT_EQ(TypeOf(path_), static_cast<mode_t>(S_IFIFO));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
  ExpectWriteRefused("a FIFO");
}

TEST_F(CheckpointFileKindsTest, DevNullIsNeitherRenamedNorReplaced) {
  if (!MakeCharDevice(path_, 3)) GTEST_SKIP() << "cannot make a device node: " << std::strerror(errno);
  // Read whole, it is an empty file: corrupt, and moved aside if it could.
  ExpectReadRefused("a character device");
  EXPECT_EQ(TypeOf(path_), static_cast<mode_t>(S_IFCHR));
  ExpectWriteRefused("a character device");
}

TEST_F(CheckpointFileKindsTest, DevFullIsNotRead) {
  if (!MakeCharDevice(path_, 7)) GTEST_SKIP() << "cannot make a device node: " << std::strerror(errno);
  // Read whole, it never ends.
  ExpectReadRefused("a character device");
  ExpectWriteRefused("a character device");
}

TEST_F(CheckpointFileKindsTest, DirectoryIsRefused) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ExpectReadRefused("a directory");
  ExpectWriteRefused("a directory");
}

TEST_F(CheckpointFileKindsTest, SocketIsRefused) {
  ASSERT_TRUE(MakeSocketFile(path_));
  ExpectReadRefused("a socket");
  ExpectWriteRefused("a socket");
}

TEST_F(CheckpointFileKindsTest, SymbolicLinkIsNeitherFollowedNorReplaced) {
  // Links are resolved once at start (ResolveCheckpointPath); the file
  // functions take the file itself.
  const std::string target = dir_ + "/target";
  ASSERT_TRUE(WriteCheckpointFile(target, SampleCheckpoint()).ok());
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition) << read.status();
  EXPECT_THAT(Message(read.status()), HasSubstr("is a symbolic link, not a regular file"));
  const absl::Status write = WriteCheckpointFile(path_, SampleCheckpoint());
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition) << write;
  EXPECT_EQ(TypeOf(path_), static_cast<mode_t>(S_IFLNK));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint", "target"));
}

TEST_F(CheckpointFileKindsTest, FileOverTheCapIsCorruptAndNotRead) {
  ASSERT_TRUE(MakeSparseFile(path_, kMaxCheckpointFileBytes + 1));
  const auto started = std::chrono::steady_clock::now();
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_THAT(Message(read.status()),
              HasSubstr(absl::StrCat("file is ", kMaxCheckpointFileBytes + 1, " bytes, over the ",
                                     kMaxCheckpointFileBytes, "-byte maximum")));
  // A regular file, corrupt: moved aside like any other.
  EXPECT_THAT(ListDirectory(), ElementsAre(absl::StrCat("checkpoint.corrupt-", kNowUnixMs)));
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "it was read";
}

TEST_F(CheckpointFileKindsTest, SparseFileUnderTheCapIsReadAndJudgedByItsBytes) {
  // Read, and corrupt for what it holds (zeros), not for its size.
  ASSERT_TRUE(MakeSparseFile(path_, 64 * 1024));
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_THAT(Message(read.status()), HasSubstr("bad magic"));
}

}  // namespace
}  // namespace moq_stats::server
