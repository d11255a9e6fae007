#ifndef MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_FILE_H_
#define MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "moq/stats/v1/checkpoint.pb.h"

namespace moq_stats::server {

// The checkpoint file on disk: a fixed header (magic "MQSCKPT1", payload
// length, CRC-32 of the payload) followed by the serialized
// moq.stats.v1.Checkpoint. The checksum catches torn or damaged files that
// protobuf alone would parse into nonsense.

// The largest checkpoint file written or read: 1 GiB. A sidecar at its
// default limits writes far less (about 100 bytes per handle and per
// level), and protobuf cannot parse a payload over 2 GiB at all; the cap
// keeps a wrong path (or a file gone wrong) from taking the daemon's memory.
inline constexpr uint64_t kMaxCheckpointFileBytes = uint64_t{1} << 30;

// Writes `checkpoint` to `path` atomically: a temporary file in the same
// directory, written whole and fsync'ed, renamed over `path`, and the
// directory fsync'ed. A reader sees the old file or the new one, never a mix.
// Errors (directory missing, disk full, ...) name the path and the system
// error; the old file is left in place and no temporary file is left behind.
// It replaces only a regular file: FAILED_PRECONDITION when anything else is
// at `path` (a directory, FIFO, device, socket or symbolic link), left alone.
// RESOURCE_EXHAUSTED when the file would be over kMaxCheckpointFileBytes.
absl::Status WriteCheckpointFile(const std::string& path, const moq::stats::v1::Checkpoint& checkpoint);

// Reads the checkpoint at `path`.
//  - NOT_FOUND when there is no file.
//  - FAILED_PRECONDITION when it is not a regular file (a directory, FIFO,
//    device, socket or symbolic link): it is not opened, read nor moved.
//  - DATA_LOSS when it is corrupt (over kMaxCheckpointFileBytes, which is
//    not read; short, bad magic, length or checksum mismatch, unparsable
//    payload): the file is first renamed aside to
//    `<path>.corrupt-<unix_ms>` (unix_ms = `now_unix_ms`) and the message says
//    so and why, so that the sidecar can log it and start empty.
//  - Other errors (permission denied, ...) name the path and the cause.
absl::StatusOr<moq::stats::v1::Checkpoint> ReadCheckpointFile(const std::string& path, int64_t now_unix_ms);

// CRC-32 (IEEE 802.3, as zlib's crc32) of `data`.
uint32_t Crc32(const std::string& data);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_FILE_H_
