#ifndef MOQ_STATS_SERVER_STATS_PRESENCE_TABLE_H_
#define MOQ_STATS_SERVER_STATS_PRESENCE_TABLE_H_

// Session presence for the node format: per (tier, auth root), the MoQ
// sessions the relays accepted under that root and the ones that ended,
// summed over every relay and session that counts them.
//
//   std::shared_ptr<PresenceEntry> e = table.Acquire("", "acme");
//   e->Open(1);                                 // a session accepted
//   e->Close(1);                                // ... and ended
//   std::vector<PresenceReport> r = table.Report();   // the tick
//
// Entries live while anyone holds them, as in PathTable: Report reads every
// entry and then drops the ones nobody holds, so their final counts are in
// that report; a root counted again later starts from zero.
//
// Safe for concurrent access from multiple threads.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/stats/tier_census.h"

namespace moq_stats::server {

// One (tier, root)'s session counts, as read at one moment.
struct Presence {
  uint64_t sessions = 0;
  uint64_t sessions_closed = 0;
  friend bool operator==(const Presence& a, const Presence& b) {
    return a.sessions == b.sessions && a.sessions_closed == b.sessions_closed;
  }
  friend bool operator!=(const Presence& a, const Presence& b) { return !(a == b); }
};

// One (tier, root)'s counters.
class PresenceEntry {
 public:
  PresenceEntry(std::string tier, std::string root) : tier_(std::move(tier)), root_(std::move(root)) {}
  PresenceEntry(const PresenceEntry&) = delete;
  PresenceEntry& operator=(const PresenceEntry&) = delete;

  const std::string& tier() const { return tier_; }
  const std::string& root() const { return root_; }

  void Open(uint64_t n) { sessions_.fetch_add(n, std::memory_order_relaxed); }
  // Release: a reader that sees the close also sees the open before it.
  void Close(uint64_t n) { sessions_closed_.fetch_add(n, std::memory_order_release); }
  // Closed before open, so a reading never shows more closed than opened.
  Presence Load() const {
    Presence p;
    p.sessions_closed = sessions_closed_.load(std::memory_order_acquire);
    p.sessions = sessions_.load(std::memory_order_relaxed);
    return p;
  }

 private:
  const std::string tier_;
  const std::string root_;
  std::atomic<uint64_t> sessions_{0};
  std::atomic<uint64_t> sessions_closed_{0};
};

// One entry's counts as one Report read them.
struct PresenceReport {
  std::string tier;
  std::string root;
  Presence counts;
};

class PresenceTable {
 public:
  PresenceTable() = default;
  PresenceTable(const PresenceTable&) = delete;
  PresenceTable& operator=(const PresenceTable&) = delete;

  // The entry of (`tier`, `root`), made when missing. `tier` is a
  // normalised label, `root` a normalised path ("" for none).
  std::shared_ptr<PresenceEntry> Acquire(std::string_view tier, std::string_view root) ABSL_LOCKS_EXCLUDED(mu_);

  // Every entry's counts, in no particular order; then forgets the entries
  // no one holds (their last counts are in this report).
  std::vector<PresenceReport> Report() ABSL_LOCKS_EXCLUDED(mu_);

  // Every entry's counts now, in no particular order, leaving the entries
  // as they are (for a checkpoint).
  std::vector<PresenceReport> Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  // Entries held now; whether (tier, root) is one; whether tier `label` has
  // one.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  bool Contains(std::string_view tier, std::string_view root) const ABSL_LOCKS_EXCLUDED(mu_);
  bool HasTier(std::string_view label) const ABSL_LOCKS_EXCLUDED(mu_);
  // The labels of the tiers that have an entry now.
  std::vector<std::string> tiers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Key = std::pair<std::string, std::string>;  // (tier, root)

  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, std::shared_ptr<PresenceEntry>> entries_ ABSL_GUARDED_BY(mu_);
  TierCensus tiers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_PRESENCE_TABLE_H_
