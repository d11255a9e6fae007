#include "server/stats/level_key.h"

#include <algorithm>

namespace moq_stats::server {

std::vector<Path> LevelKeys(const Path& path, uint32_t levels) {
  std::vector<Path> keys;
  if (levels == 0) return keys;
  size_t depth = std::min<size_t>(levels, path.segment_count());
  keys.reserve(depth + 1);
  for (size_t i = 0; i <= depth; ++i) keys.push_back(path.first_segments(i));
  return keys;
}

Path AdvertisedPath(const Path& prefix, const Path& level_key, const Path& node) {
  // The fixed "prefix" category leaves room for sibling categories under the
  // same top-level prefix (e.g. `<prefix>/nodes/<node>` for host stats).
  return prefix.join(Path("prefix")).join(level_key).join(node);
}

}  // namespace moq_stats::server
