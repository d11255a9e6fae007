#ifndef MOQ_STATS_TESTS_COMMON_JSON_TEST_TOOLS_STATS_VALUES_H_
#define MOQ_STATS_TESTS_COMMON_JSON_TEST_TOOLS_STATS_VALUES_H_

// A seeded sequence of values shaped like moq-stats' traffic tracks: an
// object of broadcast path -> the 12 traffic counters (in the order the
// node format writes them), paths in byte-wise order. Entries appear,
// change and disappear from tick to tick; the same seed gives the same
// sequence.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "common/json/value.h"

namespace moq_stats::json::test {

class StatsValues {
 public:
  // What one tick does to the entries.
  enum class Tick {
    kSame,   // nothing: the value is unchanged
    kQuiet,  // one path's bytes and frames move
    kBusy,   // about half the paths move, a few appear, a few go
  };

  StatsValues(uint32_t seed, size_t paths);

  // A schedule with both kinds of group boundary in a snapshot-encoded
  // track: 30 busy ticks (large deltas that use up a group's budget) every
  // 360, quiet ones between (small deltas, enough to fill a group of 256
  // frames), and every 11th tick unchanged.
  static Tick Scheduled(int tick) {
    if (tick % 360 < 30) return Tick::kBusy;
    return tick % 11 == 10 ? Tick::kSame : Tick::kQuiet;
  }

  // The value after one more tick of `kind`.
  Value Next(Tick kind);
  // The value as it is now.
  Value Current() const;

 private:
  static constexpr size_t kFields = 12;
  enum Field { kAnnounced, kAnnouncedBytes = 2, kSubscriptions = 5, kBytes = 8, kFrames, kGroups, kDatagrams };

  void AddPath();
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  std::mt19937_64 rng_;
  std::map<std::string, std::array<uint64_t, kFields>> entries_;
  uint64_t paths_made_ = 0;
};

}  // namespace moq_stats::json::test

#endif  // MOQ_STATS_TESTS_COMMON_JSON_TEST_TOOLS_STATS_VALUES_H_
