#include "server/file_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moq_stats::server {
namespace {

std::string LimitText(rlim_t limit) { return limit == RLIM_INFINITY ? "unlimited" : absl::StrCat(limit); }

}  // namespace

std::string FileLimit::Describe() const {
  const std::string hard_text = LimitText(static_cast<rlim_t>(hard));
  if (raised()) {
    return absl::StrCat("open files: soft limit raised from ", LimitText(static_cast<rlim_t>(soft_before)), " to ",
                        hard_text, " (the hard limit)");
  }
  return absl::StrCat("open files: soft limit ", LimitText(static_cast<rlim_t>(soft)), " (hard limit ", hard_text, ")");
}

absl::StatusOr<FileLimit> RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("cannot read the open-file limit: ", std::strerror(errno)));
  }
  FileLimit out;
  out.soft_before = limit.rlim_cur;
  out.soft = limit.rlim_cur;
  out.hard = limit.rlim_max;
  if (limit.rlim_cur == limit.rlim_max) return out;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("cannot raise the open-file soft limit from ", LimitText(out.soft_before),
                                            " to ", LimitText(out.hard), ": ", std::strerror(errno)));
  }
  out.soft = limit.rlim_cur;
  return out;
}

}  // namespace moq_stats::server
