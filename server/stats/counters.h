#ifndef MOQ_STATS_SERVER_STATS_COUNTERS_H_
#define MOQ_STATS_SERVER_STATS_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace moq_stats::server {

// The seven cumulative counters of one (tier, role) on one level, read at one
// moment.
struct Snapshot {
  uint64_t broadcasts = 0;
  uint64_t broadcasts_closed = 0;
  uint64_t subscriptions = 0;
  uint64_t subscriptions_closed = 0;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t groups = 0;

  friend bool operator==(const Snapshot& a, const Snapshot& b) {
    return a.broadcasts == b.broadcasts && a.broadcasts_closed == b.broadcasts_closed &&
           a.subscriptions == b.subscriptions && a.subscriptions_closed == b.subscriptions_closed &&
           a.bytes == b.bytes && a.frames == b.frames && a.groups == b.groups;
  }
  friend bool operator!=(const Snapshot& a, const Snapshot& b) { return !(a == b); }
};

// A batch of bumps for one (tier, role): how many broadcast and track guards
// opened and closed, and the sums of bytes, frames and groups. Applying a
// Delta has the same effect on the counters as the guards it stands for.
struct Delta {
  uint64_t broadcasts = 0;            // broadcast guards opened
  uint64_t broadcasts_closed = 0;     // broadcast guards closed
  uint64_t subscriptions = 0;         // track guards opened
  uint64_t subscriptions_closed = 0;  // track guards closed
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t groups = 0;

  bool empty() const {
    return (broadcasts | broadcasts_closed | subscriptions | subscriptions_closed | bytes | frames | groups) == 0;
  }
};

// Cumulative atomic counters for one (tier, role) on one level.
//
// Safe for concurrent access from multiple threads. Every open is added
// before the matching close (guards open before they close; Apply adds opens
// first), closes are added with release ordering and Load reads the closed
// counts first with acquire ordering, so a reader never sees more closed than
// opened. The other counters are plain relaxed sums.
class Counters {
 public:
  Counters() = default;
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  void OpenBroadcast() { broadcasts_.fetch_add(1, std::memory_order_relaxed); }
  void CloseBroadcast() { broadcasts_closed_.fetch_add(1, std::memory_order_release); }
  void OpenSubscription() { subscriptions_.fetch_add(1, std::memory_order_relaxed); }
  void CloseSubscription() { subscriptions_closed_.fetch_add(1, std::memory_order_release); }
  void AddBytes(uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }
  void AddFrames(uint64_t n) { frames_.fetch_add(n, std::memory_order_relaxed); }
  void AddGroups(uint64_t n) { groups_.fetch_add(n, std::memory_order_relaxed); }

  // Adds every field of `delta`, opens before closes.
  void Apply(const Delta& delta);

  // Reads all seven counters; closed counts never exceed open counts.
  Snapshot Load() const;

  // True while more subscriptions were opened than closed.
  bool active() const;

 private:
  std::atomic<uint64_t> broadcasts_{0};
  std::atomic<uint64_t> broadcasts_closed_{0};
  std::atomic<uint64_t> subscriptions_{0};
  std::atomic<uint64_t> subscriptions_closed_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> frames_{0};
  std::atomic<uint64_t> groups_{0};
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_COUNTERS_H_
