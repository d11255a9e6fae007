#ifndef MOQ_STATS_SERVER_STATS_PATH_TABLE_H_
#define MOQ_STATS_SERVER_STATS_PATH_TABLE_H_

// The counters of each broadcast path in each tier, for the node format:
// where levels sum every path under a prefix, a path entry holds the counts
// of exactly one (path, tier), summed over every relay and session that
// counts it. A tier is a label (tier_label.h): "" for the default tier,
// "internal", or a tier a relay named.
//
//   std::shared_ptr<PathEntry> e = table.Acquire("", Path("a/b"));
//   e->counters(Role::kPublisher).AddBytes(n);   // any thread...
//   e->MarkChanged();                            // ...then this
//   std::vector<PathReport> r = table.Report();  // the tick
//
// Reports are deltas: a report holds the entries made, marked changed or let
// go since the last one, so a tick costs what changed, not what exists. An
// entry lives while anyone holds it (a handle from Acquire); the report
// after the last handle is dropped carries its final counts with `released`
// set, and the table then forgets it: a path counted again later starts
// from zero, as moq's registry does.
//
// Safe for concurrent access from multiple threads.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
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

class PathEntry;

namespace internal {

// The entries marked changed and the entries let go since the last report:
// shared by a table and its entries (a handle may outlive its table).
struct PathChanges {
  absl::Mutex mu;
  std::vector<std::shared_ptr<PathEntry>> changed ABSL_GUARDED_BY(mu);
  std::vector<std::shared_ptr<PathEntry>> released ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;  // the table is gone: queue nothing
  // PathEntry objects alive, forgotten ones that someone still references
  // included.
  std::atomic<size_t> alive{0};
};

}  // namespace internal

// One (path, tier)'s counters, per role.
class PathEntry {
 public:
  PathEntry(Path path, std::string tier, std::shared_ptr<internal::PathChanges> changes)
      : path_(std::move(path)), tier_(std::move(tier)), changes_(std::move(changes)) {
    changes_->alive.fetch_add(1, std::memory_order_relaxed);
  }
  ~PathEntry() { changes_->alive.fetch_sub(1, std::memory_order_relaxed); }
  PathEntry(const PathEntry&) = delete;
  PathEntry& operator=(const PathEntry&) = delete;

  const Path& path() const { return path_; }
  const std::string& tier() const { return tier_; }
  // Whoever adds to these calls MarkChanged after, or the next report may
  // not carry the change.
  Counters& counters(Role role) { return roles_[static_cast<size_t>(role)]; }
  const Counters& counters(Role role) const { return roles_[static_cast<size_t>(role)]; }

  // Puts the entry in the next report. One atomic exchange when it is
  // marked already; the first mark after a report also queues it.
  void MarkChanged();

 private:
  friend class PathTable;

  const Path path_;
  const std::string tier_;
  std::array<Counters, 2> roles_;
  const std::shared_ptr<internal::PathChanges> changes_;
  // Set by MarkChanged, cleared by the report that reads the counts. An
  // exchange on both sides: a mark that finds it set is ordered before the
  // clear, so the report that clears it sees the counts bumped before.
  std::atomic<bool> changed_{false};
  // Set once by the table, before anyone can mark the entry.
  std::weak_ptr<PathEntry> self_;
  // Guarded by the table's mutex: the holders' handle, whether the table
  // forgot the entry, and the last report that carried it.
  std::weak_ptr<PathEntry> handle_;
  bool forgotten_ = false;
  uint64_t reported_ = 0;
};

// One entry's counts as one Report read them.
struct PathReport {
  Path path;
  std::string tier;             // its label
  std::array<Counts, 2> roles;  // by Role
  // Nobody holds the entry any more: these are its final counts, and later
  // reports lack it until the path is acquired again (from zero).
  bool released = false;
};

class PathTable {
 public:
  PathTable() = default;
  ~PathTable();
  PathTable(const PathTable&) = delete;
  PathTable& operator=(const PathTable&) = delete;

  // A handle on the entry of (`tier`, `path`), made when missing (it is
  // then in the next report, at zeros). Every handle on one entry shares
  // one holder count; the entry is let go when the last is dropped. `tier`
  // is a normalised label (NormalizeTierLabel).
  std::shared_ptr<PathEntry> Acquire(std::string_view tier, const Path& path) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<PathEntry> Acquire(Tier tier, const Path& path) ABSL_LOCKS_EXCLUDED(mu_) {
    return Acquire(TierLabelOf(tier), path);
  }

  // The counts of every entry made, marked changed or let go since the last
  // report, each once, in no particular order; then forgets the entries no
  // one holds (their final counts are in this report, `released`).
  std::vector<PathReport> Report() ABSL_LOCKS_EXCLUDED(mu_);

  // Every entry's counts now, in no particular order, leaving the reports
  // as they are (for a checkpoint).
  std::vector<PathReport> Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // Entry objects alive: size() plus those forgotten that a handle or a
  // queue still references (none once every handle is gone and a report
  // has run).
  size_t alive() const { return changes_->alive.load(std::memory_order_relaxed); }

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

  // Appends `entry`'s counts to `out` unless this report has it already.
  void ReportEntry(PathEntry& entry, bool released, std::vector<PathReport>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<internal::PathChanges> changes_ = std::make_shared<internal::PathChanges>();
  // Taken before changes_->mu when both are.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, std::shared_ptr<PathEntry>> entries_ ABSL_GUARDED_BY(mu_);
  TierCensus tiers_ ABSL_GUARDED_BY(mu_);
  uint64_t reports_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_PATH_TABLE_H_
