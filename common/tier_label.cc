#include "common/tier_label.h"

#include "absl/strings/str_cat.h"
#include "common/path.h"

namespace moq_stats {

absl::StatusOr<std::string> NormalizeTierLabel(std::string_view raw) {
  if (raw.empty() || raw == "external") return std::string();
  if (raw.size() > kMaxTierLabelBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tier label is ", raw.size(), " bytes; the limit is ", kMaxTierLabelBytes));
  }
  if (raw.find('/') != std::string_view::npos || raw == "." || raw == "..") {
    return absl::InvalidArgumentError("tier label must be one path segment (no '/', not \".\" or \"..\")");
  }
  if (absl::Status s = ValidatePath(raw); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tier label: ", s.message()));
  }
  return std::string(raw);
}

}  // namespace moq_stats
