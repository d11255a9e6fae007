#ifndef MOQ_STATS_SERVER_STATS_PATH_TABLE_H_
#define MOQ_STATS_SERVER_STATS_PATH_TABLE_H_

// The counters of each broadcast path in each tier, for the node format:
// where levels sum every path under a prefix, a path entry holds the counts
// of exactly one (path, tier), summed over every relay and session that
// counts it. A tier is a label (tier_label.h): "" for the default tier,
// "internal", or a tier a relay named.
//
//   std::shared_ptr<PathEntry> e = table.Acquire("", Path("a/b"));
//   e->counters(Role::kPublisher).Add(delta);    // any thread
//   std::vector<PathReport> r = table.Report();   // the tick
//
// An entry lives while anyone holds it. Report reads every entry and then
// drops the ones nobody holds any more, so their final counts are in that
// report and the next one lacks them; a path counted again later starts
// from zero, as moq's registry does.
//
// Safe for concurrent access from multiple threads.

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/path.h"
#include "common/tier_label.h"
#include "server/stats/counters.h"
#include "server/stats/tier.h"
#include "server/stats/tier_census.h"

namespace moq_stats::server {

// One (path, tier)'s counters, per role.
class PathEntry {
 public:
  PathEntry(Path path, std::string tier) : path_(std::move(path)), tier_(std::move(tier)) {}
  PathEntry(const PathEntry&) = delete;
  PathEntry& operator=(const PathEntry&) = delete;

  const Path& path() const { return path_; }
  const std::string& tier() const { return tier_; }
  Counters& counters(Role role) { return roles_[static_cast<size_t>(role)]; }
  const Counters& counters(Role role) const { return roles_[static_cast<size_t>(role)]; }

 private:
  const Path path_;
  const std::string tier_;
  std::array<Counters, 2> roles_;
};

// One entry's counts as one Report read them.
struct PathReport {
  Path path;
  std::string tier;             // its label
  std::array<Counts, 2> roles;  // by Role
};

class PathTable {
 public:
  PathTable() = default;
  PathTable(const PathTable&) = delete;
  PathTable& operator=(const PathTable&) = delete;

  // The entry of (`tier`, `path`), made when missing. `tier` is a
  // normalised label (NormalizeTierLabel).
  std::shared_ptr<PathEntry> Acquire(std::string_view tier, const Path& path) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<PathEntry> Acquire(Tier tier, const Path& path) ABSL_LOCKS_EXCLUDED(mu_) {
    return Acquire(TierLabelOf(tier), path);
  }

  // Every entry's counts, in no particular order; then forgets the entries
  // no one holds (their last counts are in this report).
  std::vector<PathReport> Report() ABSL_LOCKS_EXCLUDED(mu_);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether some entry of tier `label` exists now.
  bool HasTier(std::string_view label) const ABSL_LOCKS_EXCLUDED(mu_);
  // The labels of the tiers that have an entry now.
  std::vector<std::string> tiers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Key {
    std::string tier;
    std::string path;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.tier, k.path);
    }
    friend bool operator==(const Key& a, const Key& b) { return a.tier == b.tier && a.path == b.path; }
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, std::shared_ptr<PathEntry>> entries_ ABSL_GUARDED_BY(mu_);
  TierCensus tiers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_PATH_TABLE_H_
