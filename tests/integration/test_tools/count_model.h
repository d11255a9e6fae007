#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_COUNT_MODEL_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_COUNT_MODEL_H_

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "moq/stats/v1/stats.pb.h"

namespace moq_stats {
namespace integration {

// Batch pieces, as a relay would write them.
moq::stats::v1::Define MakeDefine(uint32_t handle, const std::string& path, moq::stats::v1::Tier tier);

struct Bumps {
  uint64_t broadcasts_opened = 0;
  uint64_t broadcasts_closed = 0;
  uint64_t subscriptions_opened = 0;
  uint64_t subscriptions_closed = 0;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t groups = 0;
};
moq::stats::v1::HandleDelta MakeDelta(uint32_t handle, moq::stats::v1::Role role, const Bumps& bumps);

moq::stats::v1::Snapshot MakeSnapshot(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions,
                                      uint64_t subscriptions_closed, uint64_t bytes, uint64_t frames, uint64_t groups);

// "//a//b/" -> "a/b", as the daemon normalises paths.
std::string NormalizePath(const std::string& raw);

// The level keys a broadcast at `path` counts on with --stats-levels=`levels`:
// "" and the first 1..levels segments.
std::vector<std::string> LevelKeysOf(const std::string& path, uint32_t levels);

// What the daemon should count, worked out independently from the batches it
// acknowledged: per (level key, tier, role) the seven counters, with the
// contract's semantics (defines, resync, deltas, releases; closing every
// open guard when a session ends). One session.
class CountModel {
 public:
  explicit CountModel(uint32_t levels) : levels_(levels) {}

  // A batch the daemon applied.
  void Apply(const moq::stats::v1::Batch& batch);
  // The session ended (expired or closed): every open guard is closed.
  void CloseAll();

  // The expected counters (all zero for a (tier, role) never touched).
  moq::stats::v1::Snapshot Expected(const std::string& key, moq::stats::v1::Tier tier, moq::stats::v1::Role role) const;
  // Every level key a define reached.
  const std::set<std::string>& keys() const { return keys_; }

  // Guards open now on `handle` in `role`: {broadcasts, subscriptions}.
  std::array<uint64_t, 2> Open(uint32_t handle, moq::stats::v1::Role role) const;
  // The handles defined now.
  std::vector<uint32_t> handles() const;

 private:
  struct Handle {
    std::string path;
    moq::stats::v1::Tier tier;
    std::map<int, std::array<uint64_t, 2>> open;  // by role
  };
  void Add(const Handle& handle, moq::stats::v1::Role role, const Bumps& bumps);

  const uint32_t levels_;
  std::map<uint32_t, Handle> handles_;
  std::set<std::string> keys_;
  std::map<std::tuple<std::string, int, int>, moq::stats::v1::Snapshot> counts_;
};

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_COUNT_MODEL_H_
