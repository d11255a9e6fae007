#ifndef MOQ_STATS_COMMON_PATH_H_
#define MOQ_STATS_COMMON_PATH_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/utf8.h"

namespace moq_stats {

// A normalised broadcast path, as moq's Path: leading and trailing '/' are
// trimmed and runs of '/' collapse to one, so "//a//b/" is "a/b" and a path of
// only slashes is the empty (root) path. Segments are the '/'-separated parts.
//
// A Path holds any bytes; `Validate` says whether it is one the project
// accepts from outside (see kMaxPathBytes, kMaxPathSegments).
//
// Immutable after construction; safe to share between threads.
class Path {
 public:
  Path() = default;
  // Normalises `raw`.
  explicit Path(std::string_view raw);

  const std::string& str() const { return str_; }
  bool empty() const { return str_.empty(); }
  size_t segment_count() const;
  std::vector<std::string_view> segments() const;

  // True when `prefix` is a whole-segment prefix of this path: "foo" is a
  // prefix of "foo" and "foo/bar" but not of "foobar". The empty prefix
  // matches every path.
  bool has_prefix(const Path& prefix) const;

  // The part after `prefix` ("" when equal). Requires has_prefix(prefix).
  std::string_view suffix_after(const Path& prefix) const;

  // This path followed by `other` ("a" + "b/c" = "a/b/c"; either may be empty).
  Path join(const Path& other) const;

  // The first `n` segments (all of them when n >= segment_count()).
  Path first_segments(size_t n) const;

  friend bool operator==(const Path& a, const Path& b) { return a.str_ == b.str_; }
  friend bool operator!=(const Path& a, const Path& b) { return a.str_ != b.str_; }
  friend bool operator<(const Path& a, const Path& b) { return a.str_ < b.str_; }

  template <typename H>
  friend H AbslHashValue(H h, const Path& p) {
    return H::combine(std::move(h), p.str_);
  }

 private:
  struct Normalized {};
  Path(Normalized, std::string s) : str_(std::move(s)) {}

  std::string str_;
};

// Limits on a path accepted from outside (the raw bytes, before normalising).
inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxPathSegments = 32;

// OK when `raw` is valid UTF-8, at most kMaxPathBytes long and, once
// normalised, has at most kMaxPathSegments segments; INVALID_ARGUMENT naming
// the broken rule otherwise.
absl::Status ValidatePath(std::string_view raw);

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_PATH_H_
