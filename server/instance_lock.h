#ifndef MOQ_STATS_SERVER_INSTANCE_LOCK_H_
#define MOQ_STATS_SERVER_INSTANCE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats::server {

// One moq-stats-sidecar per checkpoint: an exclusive flock(2) on a file
// beside the checkpoint, taken before the sidecar touches its sockets or its
// checkpoint and held until it has shut down. A second sidecar started with
// the same checkpoint (an accidental second `make run`, a restarted container
// while the old one drains) is refused instead of splitting the relays with
// the first and overwriting its checkpoint.
//
// The file holds the owner's pid, for the refusal message. The owner removes
// it when it lets go; one left behind by a crash is harmless (the lock went
// with the process).
//
// Not copyable: it is the one hold on the lock.
class InstanceLock {
 public:
  // Takes the lock on `path`, creating the file (mode 0644). FAILED_PRECONDITION
  // naming the path and the holder's pid when another sidecar holds it; other
  // errors (directory missing, not writable, not a regular file) name the
  // path and the cause.
  static absl::StatusOr<std::unique_ptr<InstanceLock>> Acquire(const std::string& path);

  // Removes the file, then lets go of the lock.
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  InstanceLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

// The lock file of the checkpoint at `checkpoint_path`: "<checkpoint_path>.lock".
std::string InstanceLockPath(const std::string& checkpoint_path);

// Makes way for the unix socket of `--listen unix:<path>`: removes a socket
// file left by a process that is gone (a connect test finds nobody
// accepting). OK when nothing is there. Leaves the file alone, with
// FAILED_PRECONDITION, when it is not a socket, or when a process still
// accepts connections on it (the message names its pid): that is another
// sidecar serving its relays.
absl::Status RemoveStaleSocket(const std::string& path);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_INSTANCE_LOCK_H_
