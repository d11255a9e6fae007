#ifndef MOQ_STATS_SERVER_STATS_LEVEL_KEY_H_
#define MOQ_STATS_SERVER_STATS_LEVEL_KEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/path.h"

namespace moq_stats::server {

// The level keys a broadcast at `path` contributes to: the root ("") and every
// prefix of the path up to min(levels, segments) segments, so a broadcast
// within the configured depth gets a bucket of its own and deeper ones are
// truncated. `levels == 0` gives none; an empty path gives the root only.
//
//   LevelKeys("demo/bbb", 1) == {"", "demo"}
//   LevelKeys("demo/bbb", 2) == {"", "demo", "demo/bbb"}
std::vector<Path> LevelKeys(const Path& path, uint32_t levels);

// The path a level's stats broadcast is published at:
// `<prefix>/prefix[/<level_key>][/<node>]`. The node may have several
// segments; an empty node means none.
//
//   AdvertisedPath(".stats", "demo", "sjc") == ".stats/prefix/demo/sjc"
//   AdvertisedPath(".stats", "", "")        == ".stats/prefix"
Path AdvertisedPath(const Path& prefix, const Path& level_key, const Path& node);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_LEVEL_KEY_H_
