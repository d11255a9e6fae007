#ifndef MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_PATH_H_
#define MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_PATH_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats::server {

// What the checkpoint path may name: nothing yet, or a regular file the
// sidecar wrote. Anything else there (a directory, a FIFO, a device such as
// /dev/null, a socket) is never read, renamed or replaced.
//
// Symbolic links: the path given at start may be one, to a regular file or
// into another directory (a volume mounted elsewhere, as in Kubernetes); it is
// resolved once, at start, and the sidecar then reads and writes the file
// itself, so the link stays a link. Past that point the readers and writers
// below refuse links, as anything else that is not a regular file.

// "a regular file", "a directory", "a FIFO", "a character device", "a block
// device", "a socket", "a symbolic link" or "a file of unknown type", for
// messages.
const char* FileTypeName(mode_t mode);

// The path to read and write the checkpoint of --checkpoint-path `path` at:
// absolute (a relative path is under the working directory), with every
// symbolic link resolved, so that two names of one file are one checkpoint
// (and one instance lock). Nothing at `path` is fine: a first start. Reads and
// changes nothing.
//
// INVALID_ARGUMENT naming the path and what it is when it names anything but
// a regular file: a directory, FIFO, device or socket, a symbolic link to
// one or to nothing, or a path that cannot be inspected.
absl::StatusOr<std::string> ResolveCheckpointPath(const std::string& path);

// Renames the regular file at `path` to `<path>.corrupt-<now_unix_ms>`, so that
// the sidecar can start empty and the file can be examined: the new path.
// FAILED_PRECONDITION, and nothing moved, when `path` is not a regular file;
// the error of rename(2) otherwise.
absl::StatusOr<std::string> MoveCheckpointAside(const std::string& path, int64_t now_unix_ms);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_SESSIONS_CHECKPOINT_PATH_H_
