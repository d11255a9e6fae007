// The rules of Session::Validation for named tiers and presence handles:
// the caps on what they make the sidecar hold, and which counters each kind
// of handle takes.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tier_label.h"
#include "server/sessions/internal/session_validation.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

std::string Session::Validation::Describe(const Handle& handle) {
  const std::string tier = handle.label.empty() ? "external" : handle.label;
  return absl::StrCat(handle.presence ? "presence of auth root \"" : "\"", handle.path.str(), "\" (", tier, ")");
}

// The named tiers and the (tier, auth root) pairs of presence the new
// handles bring fit within the sidecar's caps (--max-tiers,
// --max-session-roots).
absl::Status Session::Validation::CheckTierCaps() {
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, std::string>> roots;
  for (int i = 0; i < batch_.defines_size(); ++i) {
    auto it = plan_.defined.find(batch_.defines(i).handle());
    if (it == plan_.defined.end()) continue;
    const Handle& handle = it->second;
    if (handle.presence) {
      roots.emplace_back(handle.label, handle.path.str());
    } else if (IsNamedTier(handle.label)) {
      labels.push_back(handle.label);
    }
  }
  if (labels.empty() && roots.empty()) return absl::OkStatus();
  if (absl::Status s = session_.stats_.CheckNewTiers(labels, roots); !s.ok()) {
    return Refuse(RejectReason::kTierLimit, s);
  }
  return absl::OkStatus();
}

bool Session::Validation::InLevels(int define) const {
  const pb::Define& d = batch_.defines(define);
  if (d.presence()) return false;
  absl::StatusOr<std::string> label = NormalizeTierLabel(d.tier_label());
  return label.ok() && !IsNamedTier(*label);
}

absl::Status Session::Validation::CheckKind(const std::string& entry, const Handle& record, Role role, uint64_t traffic,
                                            uint64_t sessions) {
  if (record.presence) {
    if (traffic != 0) {
      return Refuse(RejectReason::kInvalidEnum,
                    absl::InvalidArgumentError(absl::StrCat(entry, "a presence handle counts sessions only")));
    }
    if (sessions != 0 && role != Role::kPublisher) {
      return Refuse(RejectReason::kInvalidEnum, absl::InvalidArgumentError(absl::StrCat(
                                                    entry, "a presence handle's sessions take ROLE_PUBLISHER")));
    }
  } else if (sessions != 0) {
    return Refuse(RejectReason::kInvalidEnum,
                  absl::InvalidArgumentError(absl::StrCat(entry, "sessions are counted by presence handles only")));
  }
  return absl::OkStatus();
}

}  // namespace moq_stats::server
