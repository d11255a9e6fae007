#include "server/sessions/checkpoint_file.h"

// The checkpoint file, byte by byte:
//
//   offset  size  field
//        0     8  magic, the ASCII bytes "MQSCKPT1"
//        8     8  payload length in bytes, unsigned little-endian
//       16     4  CRC-32 of the payload (IEEE, as zlib's crc32),
//                 unsigned little-endian
//       20     n  payload: moq.stats.v1.Checkpoint, serialized
//                 deterministically, with `format` == kCheckpointFormat
//
// The file is exactly 20 + n bytes; anything else is corrupt. A payload that
// does not parse, or whose `format` is not kCheckpointFormat, is corrupt too:
// this reader does not know how to restore it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/sessions/checkpoint_path.h"

namespace moq_stats::server {
namespace {

constexpr char kMagic[8] = {'M', 'Q', 'S', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeaderSize = 8 + 8 + 4;

// The only `Checkpoint.format` this code writes and restores.
constexpr uint32_t kCheckpointFormat = 1;

// Field 1 (`format`), wire type varint, value kCheckpointFormat: the bytes
// deterministic serialization starts with when `format` is set, since it
// emits fields in number order.
constexpr char kFormatFieldBytes[2] = {0x08, static_cast<char>(kCheckpointFormat)};

// The reflected table of the IEEE polynomial, built at compile time.
constexpr std::array<uint32_t, 256> MakeCrc32Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32Table = MakeCrc32Table();

// Continues a CRC-32 over `size` more bytes; start with `crc` = 0.
uint32_t ExtendCrc32(uint32_t crc, const char* data, size_t size) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) {
    crc = kCrc32Table[(crc ^ static_cast<unsigned char>(data[i])) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

void AppendLittleEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

uint64_t ReadLittleEndian(const char* data, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
  }
  return value;
}

// "<what>: <strerror(error_number)>", with the canonical code of the errno.
absl::Status ErrnoError(int error_number, const std::string& what) { return absl::ErrnoToStatus(error_number, what); }

// The directory holding `path`: "." for a bare name, "/" for "/name".
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Owns a file descriptor; closes it, ignoring errors, unless Close() or
// Release() was called first.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }

  // Closes the descriptor; returns 0 or the errno of close(2). The descriptor
  // is released even on error (on Linux, retrying close is never right).
  int Close() {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Writes all of `data`, looping over short writes and EINTR. Returns 0 or
// the errno.
int WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

int FsyncRetryingEintr(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Reads `fd` to its end into `out`, but no more than `limit` bytes: stops at
// `limit` + 1, so that a caller can tell a file over the limit. Returns 0 or
// the errno.
int ReadAtMost(int fd, size_t limit, std::string* out) {
  struct stat st;
  size_t capacity = 4096;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    // One byte more than the size so that a file that did not change reads
    // in one pass and sees its end without growing the buffer.
    capacity = static_cast<size_t>(st.st_size) + 1;
  }
  out->resize(std::min(capacity, limit + 1));
  size_t used = 0;
  while (used <= limit) {
    if (used == out->size()) out->resize(std::min(out->size() * 2, limit + 1));
    const ssize_t n = ::read(fd, &(*out)[used], out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  out->resize(used);
  return 0;
}

// Makes the temporary file names of this process unique across calls, also
// from concurrent threads. Only uniqueness matters, so relaxed ordering.
std::atomic<uint64_t> temp_file_counter{0};

// Serializes `checkpoint` as the payload; fails when it is too large for
// protobuf (2 GiB) or carries a format this code would not read back.
absl::Status SerializePayload(const std::string& path, const moq::stats::v1::Checkpoint& checkpoint,
                              std::string* payload) {
  if (checkpoint.format() != 0 && checkpoint.format() != kCheckpointFormat) {
    return absl::InvalidArgumentError(absl::StrCat("writing checkpoint ", path, ": format ", checkpoint.format(),
                                                   " is not the supported ", kCheckpointFormat));
  }
  if (checkpoint.format() == 0) {
    // An unset format is stamped with the current one, without copying the
    // message: the serialized bytes are the same as those of the message with
    // `format` set, which deterministic serialization puts first.
    payload->assign(kFormatFieldBytes, sizeof(kFormatFieldBytes));
  }
  google::protobuf::io::StringOutputStream string_stream(payload);
  google::protobuf::io::CodedOutputStream coded_stream(&string_stream);
  coded_stream.SetSerializationDeterministic(true);
  if (!checkpoint.SerializeToCodedStream(&coded_stream) || coded_stream.HadError()) {
    return absl::InvalidArgumentError(absl::StrCat("writing checkpoint ", path, ": cannot serialize the checkpoint (",
                                                   checkpoint.ByteSizeLong(), " bytes)"));
  }
  if (kHeaderSize + payload->size() > kMaxCheckpointFileBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("writing checkpoint ", path, ": ", kHeaderSize + payload->size(),
                                                     " bytes, over the ", kMaxCheckpointFileBytes,
                                                     "-byte maximum a restart reads; the old file is kept"));
  }
  return absl::OkStatus();
}

// Creates a new temporary file next to `path`; fills `temp_path`.
absl::Status CreateTempFile(const std::string& path, std::string* temp_path, int* fd) {
  // EEXIST means a stale file from an earlier process with the same pid;
  // take the next name.
  constexpr int kAttempts = 100;
  int error_number = EEXIST;
  for (int attempt = 0; attempt < kAttempts && error_number == EEXIST; ++attempt) {
    *temp_path =
        absl::StrCat(path, ".tmp-", ::getpid(), "-", temp_file_counter.fetch_add(1, std::memory_order_relaxed));
    *fd = ::open(temp_path->c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (*fd >= 0) return absl::OkStatus();
    error_number = errno;
  }
  return ErrnoError(error_number,
                    absl::StrCat("writing checkpoint ", path, ": cannot create temporary file ", *temp_path));
}

// Writes header and payload to the open temporary file, syncs and closes it.
absl::Status FillTempFile(const std::string& path, const std::string& temp_path, ScopedFd& fd,
                          const std::string& payload) {
  std::string header(kMagic, sizeof(kMagic));
  AppendLittleEndian(payload.size(), 8, &header);
  AppendLittleEndian(Crc32(payload), 4, &header);

  const std::string context = absl::StrCat("writing checkpoint ", path, ": ");
  int error_number = WriteAll(fd.get(), header.data(), header.size());
  if (error_number == 0) error_number = WriteAll(fd.get(), payload.data(), payload.size());
  if (error_number != 0) {
    return ErrnoError(error_number, absl::StrCat(context, "cannot write ", temp_path));
  }
  if ((error_number = FsyncRetryingEintr(fd.get())) != 0) {
    return ErrnoError(error_number, absl::StrCat(context, "cannot fsync ", temp_path));
  }
  if ((error_number = fd.Close()) != 0) {
    return ErrnoError(error_number, absl::StrCat(context, "cannot close ", temp_path));
  }
  return absl::OkStatus();
}

// Makes the rename into `directory` durable.
absl::Status SyncDirectory(const std::string& path, const std::string& directory) {
  const std::string context = absl::StrCat("writing checkpoint ", path, ": renamed into place, but ");
  ScopedFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return ErrnoError(errno, absl::StrCat(context, "cannot open directory ", directory));
  }
  int error_number = FsyncRetryingEintr(fd.get());
  if (error_number == 0) error_number = fd.Close();
  if (error_number != 0) {
    return ErrnoError(error_number, absl::StrCat(context, "cannot fsync directory ", directory));
  }
  return absl::OkStatus();
}

// OK when the rename may put a new checkpoint at `path`: nothing is there, or
// a regular file (the last checkpoint). Anything else is left alone.
absl::Status CheckReplaceable(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, absl::StrCat("writing checkpoint ", path, ": cannot inspect it"));
  }
  if (S_ISREG(st.st_mode)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("writing checkpoint ", path, ": it is ", FileTypeName(st.st_mode),
                                                    ", not a regular file; not replacing it"));
}

// The refusal of a checkpoint path that is not a regular file.
absl::Status NotARegularFile(const std::string& context, mode_t mode) {
  return absl::FailedPreconditionError(
      absl::StrCat(context, "it is ", FileTypeName(mode), ", not a regular file; not reading or moving it"));
}

std::string TooLarge(uint64_t size) {
  return absl::StrCat("file is ", size, " bytes, over the ", kMaxCheckpointFileBytes, "-byte maximum");
}

// Why `data`, a whole checkpoint file, cannot be restored; "" when it can,
// then `checkpoint` holds it.
std::string ParseFile(const std::string& data, moq::stats::v1::Checkpoint* checkpoint) {
  if (data.size() < kHeaderSize) {
    return absl::StrCat("file is ", data.size(), " bytes, shorter than the ", kHeaderSize, "-byte header");
  }
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return "bad magic, not a checkpoint file";
  }
  const uint64_t length = ReadLittleEndian(data.data() + 8, 8);
  const uint64_t actual_length = data.size() - kHeaderSize;
  if (length != actual_length) {
    return absl::StrCat("header gives a ", length, "-byte payload but ", actual_length, " bytes follow it");
  }
  const uint32_t expected_crc = static_cast<uint32_t>(ReadLittleEndian(data.data() + 16, 4));
  const uint32_t actual_crc = ExtendCrc32(0, data.data() + kHeaderSize, actual_length);
  if (expected_crc != actual_crc) {
    return absl::StrCat("payload checksum is 0x", absl::Hex(actual_crc, absl::kZeroPad8), ", header says 0x",
                        absl::Hex(expected_crc, absl::kZeroPad8));
  }
  if (actual_length > static_cast<uint64_t>(INT32_MAX) ||
      !checkpoint->ParseFromArray(data.data() + kHeaderSize, static_cast<int>(actual_length))) {
    return "payload does not parse as moq.stats.v1.Checkpoint";
  }
  if (checkpoint->format() != kCheckpointFormat) {
    return absl::StrCat("checkpoint format ", checkpoint->format(), " is not the supported ", kCheckpointFormat);
  }
  return "";
}

}  // namespace

absl::Status WriteCheckpointFile(const std::string& path, const moq::stats::v1::Checkpoint& checkpoint) {
  std::string payload;
  absl::Status status = SerializePayload(path, checkpoint, &payload);
  if (!status.ok()) return status;

  std::string temp_path;
  int raw_fd = -1;
  status = CreateTempFile(path, &temp_path, &raw_fd);
  if (!status.ok()) return status;
  ScopedFd fd(raw_fd);

  status = FillTempFile(path, temp_path, fd, payload);
  if (status.ok()) status = CheckReplaceable(path);
  if (status.ok() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoError(errno, absl::StrCat("writing checkpoint ", path, ": cannot rename ", temp_path, " over it"));
  }
  if (!status.ok()) {
    // Close before removing, so nothing is left open on a file that is gone.
    if (fd.get() >= 0) fd.Close();
    ::unlink(temp_path.c_str());
    return status;
  }
  return SyncDirectory(path, DirectoryOf(path));
}

absl::StatusOr<moq::stats::v1::Checkpoint> ReadCheckpointFile(const std::string& path, int64_t now_unix_ms) {
  const std::string context = absl::StrCat("reading checkpoint ", path, ": ");
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT) return absl::NotFoundError(absl::StrCat("no checkpoint file at ", path));
    return ErrnoError(error_number, absl::StrCat(context, "cannot inspect it"));
  }
  // Not opened at all: opening a device or a FIFO can block or act.
  if (!S_ISREG(st.st_mode)) return NotARegularFile(context, st.st_mode);
  std::string data;
  std::string reason;
  {
    // O_NONBLOCK and O_NOFOLLOW in case something else took its place since.
    ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    if (fd.get() < 0) {
      const int error_number = errno;
      if (error_number == ENOENT) return absl::NotFoundError(absl::StrCat("no checkpoint file at ", path));
      return ErrnoError(error_number, absl::StrCat(context, "cannot open"));
    }
    if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, absl::StrCat(context, "cannot inspect it"));
    if (!S_ISREG(st.st_mode)) return NotARegularFile(context, st.st_mode);
    if (static_cast<uint64_t>(st.st_size) > kMaxCheckpointFileBytes) {
      reason = TooLarge(static_cast<uint64_t>(st.st_size));
    } else if (const int error_number = ReadAtMost(fd.get(), kMaxCheckpointFileBytes, &data); error_number != 0) {
      return ErrnoError(error_number, absl::StrCat(context, "cannot read"));
    } else if (data.size() > kMaxCheckpointFileBytes) {
      reason = TooLarge(data.size());  // it grew while being read
    }
  }

  moq::stats::v1::Checkpoint checkpoint;
  if (reason.empty()) reason = ParseFile(data, &checkpoint);
  if (reason.empty()) return checkpoint;

  absl::StatusOr<std::string> aside = MoveCheckpointAside(path, now_unix_ms);
  const std::string moved =
      aside.ok() ? absl::StrCat("moved it aside to ", *aside) : std::string(aside.status().message());
  return absl::DataLossError(absl::StrCat("checkpoint file ", path, " is corrupt (", reason, "); ", moved));
}

uint32_t Crc32(const std::string& data) { return ExtendCrc32(0, data.data(), data.size()); }

}  // namespace moq_stats::server
