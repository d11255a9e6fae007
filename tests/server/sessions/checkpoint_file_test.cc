#include "server/sessions/checkpoint_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::moq::stats::v1::Checkpoint;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kNowUnixMs = 1700000000123;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::string SerializeDeterministic(const Checkpoint& checkpoint) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream string_stream(&out);
    google::protobuf::io::CodedOutputStream coded_stream(&string_stream);
    coded_stream.SetSerializationDeterministic(true);
    EXPECT_TRUE(checkpoint.SerializeToCodedStream(&coded_stream));
  }
  return out;
}

void AppendLittleEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A file image: magic, the given length and CRC, then `payload`.
std::string FileImage(const std::string& payload, uint64_t length, uint32_t crc,
                      const std::string& magic = "MQSCKPT1") {
  std::string out = magic;
  AppendLittleEndian(length, 8, &out);
  AppendLittleEndian(crc, 4, &out);
  return out + payload;
}

// A well-formed file image around `payload`.
std::string FileImage(const std::string& payload) { return FileImage(payload, payload.size(), Crc32(payload)); }

Checkpoint SampleCheckpoint() {
  Checkpoint checkpoint;
  checkpoint.set_format(1);
  checkpoint.set_taken_unix_ms(kNowUnixMs - 5000);

  auto* root = checkpoint.add_levels();
  root->set_key("");
  root->mutable_external_publisher()->set_broadcasts(3);
  root->mutable_external_publisher()->set_bytes(123456789012ull);
  root->mutable_internal_subscriber()->set_subscriptions(7);
  root->mutable_internal_subscriber()->set_subscriptions_closed(2);

  auto* level = checkpoint.add_levels();
  level->set_key("live/sports");
  level->mutable_external_subscriber()->set_frames(99);
  level->mutable_external_subscriber()->set_groups(4);
  level->mutable_internal_publisher()->set_broadcasts_closed(1);

  auto* session = checkpoint.add_sessions();
  session->set_session_id("0b6f3c1e-1111-4a2b-9c3d-5e6f7a8b9c0d");
  session->set_relay("relay-eu-1");
  session->set_applied_sequence(42);
  auto* handle = session->add_handles();
  handle->set_handle(1);
  handle->set_path("live/sports/match");
  handle->set_tier(moq::stats::v1::TIER_EXTERNAL);
  handle->set_publisher_broadcasts(1);
  handle->set_subscriber_subscriptions(12);
  handle = session->add_handles();
  handle->set_handle(2);
  handle->set_path("live/news");
  handle->set_tier(moq::stats::v1::TIER_INTERNAL);
  handle->set_publisher_subscriptions(3);

  auto* idle = checkpoint.add_sessions();
  idle->set_session_id("idle");
  return checkpoint;
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "checkpoint_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    dir_ = templ;
    path_ = dir_ + "/checkpoint";
  }

  void TearDown() override {
    std::error_code error;
    // A test may have taken permissions away.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, error);
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

  static std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  static void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
  }

  static bool Exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  // Writes `bytes` as the checkpoint file, reads it, and expects DATA_LOSS
  // naming `reason`, with the file moved aside intact.
  void ExpectCorrupt(const std::string& bytes, const std::string& reason) {
    WriteBytes(path_, bytes);
    const std::string corrupt_path = absl::StrCat(path_, ".corrupt-", kNowUnixMs);

    const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

    ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
    EXPECT_THAT(Message(read.status()), HasSubstr(path_));
    EXPECT_THAT(Message(read.status()), HasSubstr(reason));
    EXPECT_THAT(Message(read.status()), HasSubstr("moved it aside to " + corrupt_path));
    EXPECT_FALSE(Exists(path_));
    ASSERT_TRUE(Exists(corrupt_path));
    EXPECT_EQ(ReadBytes(corrupt_path), bytes);
    EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint.corrupt-" + std::to_string(kNowUnixMs)));
  }

  std::string dir_;
  std::string path_;
};

TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  // Bytes with the high bit set must not be sign-extended.
  EXPECT_EQ(Crc32(std::string(1, '\xff')), 0xFF000000u);
  EXPECT_EQ(Crc32(std::string(32, '\0')), 0x190A55ADu);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32(all_bytes), 0x29058C73u);
}

TEST_F(CheckpointFileTest, RoundTrips) {
  const Checkpoint checkpoint = SampleCheckpoint();
  ASSERT_TRUE(WriteCheckpointFile(path_, checkpoint).ok());

  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*read, checkpoint)) << read->DebugString();
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

TEST_F(CheckpointFileTest, FileIsHeaderThenDeterministicPayload) {
  const Checkpoint checkpoint = SampleCheckpoint();
  ASSERT_TRUE(WriteCheckpointFile(path_, checkpoint).ok());

  const std::string payload = SerializeDeterministic(checkpoint);
  std::string expected = "MQSCKPT1";
  AppendLittleEndian(payload.size(), 8, &expected);
  AppendLittleEndian(Crc32(payload), 4, &expected);
  expected += payload;
  EXPECT_EQ(ReadBytes(path_), expected);
}

TEST_F(CheckpointFileTest, HeaderBytesForAKnownPayload) {
  // An empty checkpoint of format 1 is the two bytes 08 01.
  Checkpoint checkpoint;
  checkpoint.set_format(1);
  ASSERT_TRUE(WriteCheckpointFile(path_, checkpoint).ok());

  const std::string expected(
      "MQSCKPT1"
      "\x02\x00\x00\x00\x00\x00\x00\x00"  // length 2
      "\x61\xa8\x07\xfe"                  // CRC-32 of 08 01
      "\x08\x01",
      22);
  EXPECT_EQ(Crc32(std::string("\x08\x01", 2)), 0xFE07A861u);
  EXPECT_EQ(ReadBytes(path_), expected);
}

TEST_F(CheckpointFileTest, UnsetFormatIsWrittenAsTheCurrentOne) {
  Checkpoint unset = SampleCheckpoint();
  unset.clear_format();
  ASSERT_TRUE(WriteCheckpointFile(path_, unset).ok());
  const std::string written_unset = ReadBytes(path_);
  ASSERT_TRUE(WriteCheckpointFile(path_, SampleCheckpoint()).ok());

  EXPECT_EQ(written_unset, ReadBytes(path_));
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->format(), 1u);
}

TEST_F(CheckpointFileTest, UnsupportedFormatIsRefusedOnWrite) {
  Checkpoint checkpoint = SampleCheckpoint();
  checkpoint.set_format(2);

  const absl::Status status = WriteCheckpointFile(path_, checkpoint);

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(Message(status), HasSubstr(path_));
  EXPECT_THAT(ListDirectory(), IsEmpty());
}

TEST_F(CheckpointFileTest, OverwriteKeepsOnlyTheNewContent) {
  Checkpoint first = SampleCheckpoint();
  ASSERT_TRUE(WriteCheckpointFile(path_, first).ok());
  Checkpoint second;
  second.set_format(1);
  second.set_taken_unix_ms(kNowUnixMs);
  second.add_levels()->set_key("other");

  ASSERT_TRUE(WriteCheckpointFile(path_, second).ok());

  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*read, second)) << read->DebugString();
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

TEST_F(CheckpointFileTest, FileIsPrivateToItsOwner) {
  ASSERT_TRUE(WriteCheckpointFile(path_, SampleCheckpoint()).ok());
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CheckpointFileTest, RelativePathIsInTheWorkingDirectory) {
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  const absl::Status write = WriteCheckpointFile("checkpoint", SampleCheckpoint());
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile("checkpoint", kNowUnixMs);
  std::filesystem::current_path(previous);

  ASSERT_TRUE(write.ok()) << write;
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*read, SampleCheckpoint()));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

TEST_F(CheckpointFileTest, MissingFileIsNotFound) {
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound) << read.status();
  EXPECT_THAT(Message(read.status()), HasSubstr(path_));
  EXPECT_THAT(ListDirectory(), IsEmpty());
}

TEST_F(CheckpointFileTest, EmptyFileIsCorrupt) { ExpectCorrupt("", "file is 0 bytes"); }

TEST_F(CheckpointFileTest, TruncatedHeaderIsCorrupt) {
  const std::string valid = FileImage(SerializeDeterministic(SampleCheckpoint()));
  ExpectCorrupt(valid.substr(0, 19), "shorter than the 20-byte header");
}

TEST_F(CheckpointFileTest, BadMagicIsCorrupt) {
  const std::string payload = SerializeDeterministic(SampleCheckpoint());
  ExpectCorrupt(FileImage(payload, payload.size(), Crc32(payload), "MQSCKPT2"), "bad magic");
}

TEST_F(CheckpointFileTest, TruncatedPayloadIsCorrupt) {
  const std::string valid = FileImage(SerializeDeterministic(SampleCheckpoint()));
  ExpectCorrupt(valid.substr(0, valid.size() - 1), "bytes follow it");
}

TEST_F(CheckpointFileTest, HeaderOnlyIsCorrupt) {
  const std::string valid = FileImage(SerializeDeterministic(SampleCheckpoint()));
  ExpectCorrupt(valid.substr(0, 20), "but 0 bytes follow it");
}

TEST_F(CheckpointFileTest, TrailingBytesAreCorrupt) {
  ExpectCorrupt(FileImage(SerializeDeterministic(SampleCheckpoint())) + "x", "bytes follow it");
}

TEST_F(CheckpointFileTest, HugeLengthIsCorrupt) {
  const std::string payload = SerializeDeterministic(SampleCheckpoint());
  ExpectCorrupt(FileImage(payload, UINT64_MAX, Crc32(payload)),
                absl::StrCat("header gives a ", UINT64_MAX, "-byte payload"));
}

TEST_F(CheckpointFileTest, FlippedPayloadByteFailsTheChecksum) {
  std::string image = FileImage(SerializeDeterministic(SampleCheckpoint()));
  image[image.size() / 2 + 10] ^= 0x01;
  ExpectCorrupt(image, "checksum");
}

TEST_F(CheckpointFileTest, FlippedChecksumByteFailsTheChecksum) {
  std::string image = FileImage(SerializeDeterministic(SampleCheckpoint()));
  image[17] ^= 0x80;
  ExpectCorrupt(image, "checksum");
}

TEST_F(CheckpointFileTest, UnparsablePayloadWithMatchingChecksumIsCorrupt) {
  // Field 3 (levels), length-delimited, claiming 100 bytes of which 2 follow.
  const std::string garbage("\x1a\x64\x0a\x00", 4);
  Checkpoint probe;
  ASSERT_FALSE(probe.ParseFromString(garbage));
  ExpectCorrupt(FileImage(garbage), "does not parse");
}

TEST_F(CheckpointFileTest, WrongFormatIsCorrupt) {
  Checkpoint checkpoint = SampleCheckpoint();
  checkpoint.set_format(2);
  ExpectCorrupt(FileImage(SerializeDeterministic(checkpoint)), "format 2");
}

TEST_F(CheckpointFileTest, MissingFormatIsCorrupt) {
  Checkpoint checkpoint = SampleCheckpoint();
  checkpoint.clear_format();
  ExpectCorrupt(FileImage(SerializeDeterministic(checkpoint)), "format 0");
}

TEST_F(CheckpointFileTest, CorruptFileThatCannotBeMovedAsideIsStillDataLoss) {
  WriteBytes(path_, "this is not a checkpoint file");
  // A non-empty directory where the file would be moved makes rename fail.
  const std::string corrupt_path = absl::StrCat(path_, ".corrupt-", kNowUnixMs);
  ASSERT_TRUE(std::filesystem::create_directory(corrupt_path));
  WriteBytes(corrupt_path + "/occupant", "x");

  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

  ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_THAT(Message(read.status()), HasSubstr(path_));
  EXPECT_THAT(Message(read.status()), HasSubstr("bad magic"));
  EXPECT_THAT(Message(read.status()), HasSubstr("could not move it aside to " + corrupt_path));
  EXPECT_EQ(ReadBytes(path_), "this is not a checkpoint file");
}

TEST_F(CheckpointFileTest, MissingDirectoryIsNotFoundOnWrite) {
  const std::string path = dir_ + "/missing/checkpoint";

  const absl::Status status = WriteCheckpointFile(path, SampleCheckpoint());

  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(Message(status), HasSubstr(path));
  EXPECT_THAT(Message(status), HasSubstr("No such file or directory"));
  EXPECT_FALSE(Exists(dir_ + "/missing"));
  EXPECT_THAT(ListDirectory(), IsEmpty());
}

TEST_F(CheckpointFileTest, RefusedReplacementLeavesTheTargetAndNoTemporaryFile) {
  // A directory at the path is not replaced (checked once the temporary file
  // is written, just before the rename).
  ASSERT_TRUE(std::filesystem::create_directory(path_));
  WriteBytes(path_ + "/occupant", "x");

  const absl::Status status = WriteCheckpointFile(path_, SampleCheckpoint());

  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(Message(status), HasSubstr(path_));
  EXPECT_THAT(Message(status), HasSubstr("is a directory, not a regular file; not replacing it"));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
  EXPECT_EQ(ReadBytes(path_ + "/occupant"), "x");
}

TEST_F(CheckpointFileTest, UnwritableDirectoryIsPermissionDeniedAndKeepsTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const Checkpoint old_checkpoint = SampleCheckpoint();
  ASSERT_TRUE(WriteCheckpointFile(path_, old_checkpoint).ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0500), 0);
  Checkpoint new_checkpoint;
  new_checkpoint.set_format(1);

  const absl::Status status = WriteCheckpointFile(path_, new_checkpoint);

  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(Message(status), HasSubstr(path_));
  EXPECT_THAT(Message(status), HasSubstr("Permission denied"));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*read, old_checkpoint));
}

TEST_F(CheckpointFileTest, UnreadableFileIsPermissionDeniedAndStaysInPlace) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  ASSERT_TRUE(WriteCheckpointFile(path_, SampleCheckpoint()).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0), 0);

  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

  EXPECT_EQ(read.status().code(), absl::StatusCode::kPermissionDenied) << read.status();
  EXPECT_THAT(Message(read.status()), HasSubstr(path_));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

TEST_F(CheckpointFileTest, LargeCheckpointRoundTrips) {
  Checkpoint checkpoint;
  checkpoint.set_format(1);
  checkpoint.set_taken_unix_ms(kNowUnixMs);
  constexpr int kLevels = 100000;
  for (int i = 0; i < kLevels; ++i) {
    auto* level = checkpoint.add_levels();
    level->set_key(absl::StrCat("region-", i % 17, "/event-", i));
    level->mutable_external_publisher()->set_bytes(static_cast<uint64_t>(i) * 1000003);
    level->mutable_external_subscriber()->set_frames(static_cast<uint64_t>(i) + 1);
    level->mutable_internal_publisher()->set_groups(static_cast<uint64_t>(i) % 251);
    level->mutable_internal_subscriber()->set_subscriptions(static_cast<uint64_t>(i) ^ 0x5a5a);
  }
  ASSERT_TRUE(WriteCheckpointFile(path_, checkpoint).ok());

  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);

  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->levels_size(), kLevels);
  EXPECT_TRUE(MessageDifferencer::Equals(*read, checkpoint));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

TEST_F(CheckpointFileTest, ConcurrentWritersLeaveOneWholeFile) {
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 10;
  std::vector<Checkpoint> checkpoints(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    checkpoints[w].set_format(1);
    checkpoints[w].set_taken_unix_ms(w);
    for (int i = 0; i < 100; ++i) checkpoints[w].add_levels()->set_key(absl::StrCat(w, "/", i));
  }
  std::vector<absl::Status> statuses(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kWritesEach && statuses[w].ok(); ++i) {
        statuses[w] = WriteCheckpointFile(path_, checkpoints[w]);
      }
    });
  }
  for (auto& writer : writers) writer.join();

  for (const absl::Status& status : statuses) EXPECT_TRUE(status.ok()) << status;
  const absl::StatusOr<Checkpoint> read = ReadCheckpointFile(path_, kNowUnixMs);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_GE(read->taken_unix_ms(), 0);
  ASSERT_LT(read->taken_unix_ms(), kWriters);
  EXPECT_TRUE(MessageDifferencer::Equals(*read, checkpoints[read->taken_unix_ms()]));
  EXPECT_THAT(ListDirectory(), ElementsAre("checkpoint"));
}

}  // namespace
}  // namespace moq_stats::server
