#ifndef MOQ_STATS_SERVER_FILE_LIMIT_H_
#define MOQ_STATS_SERVER_FILE_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace moq_stats::server {

// The process's open-file limit (RLIMIT_NOFILE) before and after
// RaiseFileLimit.
struct FileLimit {
  uint64_t soft_before = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;

  bool raised() const { return soft != soft_before; }
  // "open files: soft limit raised from 1024 to 524288 (the hard limit)", or
  // "open files: soft limit 524288 (the hard limit)".
  std::string Describe() const;
};

// Raises the soft open-file limit to the hard one, so that every descriptor
// the system grants the process can be used: each connection a listener
// accepts costs one, and running out makes accepts fail. INTERNAL naming the
// system error when the limit cannot be read or set.
absl::StatusOr<FileLimit> RaiseFileLimit();

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_FILE_LIMIT_H_
