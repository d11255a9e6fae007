#include "common/path.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats {

Path::Path(std::string_view raw) {
  str_.reserve(raw.size());
  bool pending_slash = false;
  for (char c : raw) {
    if (c == '/') {
      pending_slash = !str_.empty();
      continue;
    }
    if (pending_slash) {
      str_.push_back('/');
      pending_slash = false;
    }
    str_.push_back(c);
  }
}

size_t Path::segment_count() const {
  if (str_.empty()) return 0;
  return 1 + static_cast<size_t>(std::count(str_.begin(), str_.end(), '/'));
}

std::vector<std::string_view> Path::segments() const {
  std::vector<std::string_view> out;
  std::string_view rest = str_;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

bool Path::has_prefix(const Path& prefix) const {
  if (prefix.empty()) return true;
  if (str_.size() < prefix.str_.size()) return false;
  if (str_.compare(0, prefix.str_.size(), prefix.str_) != 0) return false;
  return str_.size() == prefix.str_.size() || str_[prefix.str_.size()] == '/';
}

std::string_view Path::suffix_after(const Path& prefix) const {
  std::string_view rest = str_;
  if (prefix.empty()) return rest;
  rest.remove_prefix(std::min(rest.size(), prefix.str_.size()));
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return rest;
}

Path Path::join(const Path& other) const {
  if (str_.empty()) return other;
  if (other.str_.empty()) return *this;
  return Path(Normalized{}, absl::StrCat(str_, "/", other.str_));
}

Path Path::first_segments(size_t n) const {
  if (n == 0) return Path();
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    pos = str_.find('/', pos);
    if (pos == std::string::npos) return *this;
    if (i + 1 < n) ++pos;
  }
  return Path(Normalized{}, str_.substr(0, pos));
}

absl::Status ValidatePath(std::string_view raw) {
  if (raw.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("path is ", raw.size(), " bytes long, over the limit of ", kMaxPathBytes));
  }
  if (!IsValidUtf8(raw)) {
    return absl::InvalidArgumentError("path is not valid UTF-8");
  }
  size_t segments = Path(raw).segment_count();
  if (segments > kMaxPathSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("path has ", segments, " segments, over the limit of ", kMaxPathSegments));
  }
  return absl::OkStatus();
}

}  // namespace moq_stats
