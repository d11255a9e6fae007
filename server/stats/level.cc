#include "server/stats/level.h"

#include <utility>

namespace moq_stats::server {

Level::Level(Path key, Path advertised, int64_t created_unix_ms)
    : key_(std::move(key)), advertised_(std::move(advertised)), created_unix_ms_(created_unix_ms) {}

bool Level::any_active() const {
  for (const Counters& c : counters_) {
    if (c.active()) return true;
  }
  return false;
}

}  // namespace moq_stats::server
