#ifndef MOQ_STATS_COUNTS_H_
#define MOQ_STATS_COUNTS_H_

// The traffic counts a relay reports and the sidecar aggregates: the tiers
// and roles they are kept per, and the twelve cumulative counters. The
// relay-side library and the sidecar share these definitions; adding a
// counter means adding it here (to Counter, Counts and kCountFields) and to
// its wire mapping (proto/counts_proto.cc).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moq_stats {

// Traffic class: customer-facing (external) or cluster-peer (internal).
enum class Tier { kExternal = 0, kInternal = 1 };

// Direction: the publisher role is egress, the subscriber role ingress.
enum class Role { kPublisher = 0, kSubscriber = 1 };

inline constexpr std::array<Tier, 2> kTiers = {Tier::kExternal, Tier::kInternal};
inline constexpr std::array<Role, 2> kRoles = {Role::kPublisher, Role::kSubscriber};

// "external" / "internal".
constexpr std::string_view TierName(Tier tier) { return tier == Tier::kExternal ? "external" : "internal"; }

// "publisher" / "subscriber".
constexpr std::string_view RoleName(Role role) { return role == Role::kPublisher ? "publisher" : "subscriber"; }

// One counter of one (tier, role). Broadcasts, subscriptions and
// announcements count guards opened and closed; the others are sums. The
// first seven are the counters of the level format; the last five are moq's
// counters that only the node format publishes.
enum class Counter : uint8_t {
  kBroadcasts,
  kBroadcastsClosed,
  kSubscriptions,
  kSubscriptionsClosed,
  kBytes,
  kFrames,
  kGroups,
  kAnnounced,        // announce guards opened
  kAnnouncedClosed,  // announce guards closed
  kAnnouncedBytes,   // the path's length in bytes, once per announce and once per unannounce
  kFetches,          // one-shot group fetches requested
  kDatagrams,        // groups of one frame carried as datagrams (also counted in groups, frames, bytes)
};
inline constexpr size_t kCounterCount = 12;
// The counters the level format publishes: the first seven.
inline constexpr size_t kLevelCounterCount = 7;

// The counters of one (tier, role): either cumulative values read at one
// moment, or a batch of bumps to add (guards opened and closed, sums).
struct Counts {
  uint64_t broadcasts = 0;
  uint64_t broadcasts_closed = 0;
  uint64_t subscriptions = 0;
  uint64_t subscriptions_closed = 0;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t groups = 0;
  uint64_t announced = 0;
  uint64_t announced_closed = 0;
  uint64_t announced_bytes = 0;
  uint64_t fetches = 0;
  uint64_t datagrams = 0;

  uint64_t& operator[](Counter c);
  uint64_t operator[](Counter c) const;

  // True when every counter is zero.
  bool empty() const;

  friend bool operator==(const Counts& a, const Counts& b);
  friend bool operator!=(const Counts& a, const Counts& b) { return !(a == b); }
};

// Every counter in Counter order, with its field and the name it has in
// frames and on the wire.
struct CountField {
  Counter counter;
  uint64_t Counts::*field;
  std::string_view name;
};
inline constexpr std::array<CountField, kCounterCount> kCountFields = {{
    {Counter::kBroadcasts, &Counts::broadcasts, "broadcasts"},
    {Counter::kBroadcastsClosed, &Counts::broadcasts_closed, "broadcasts_closed"},
    {Counter::kSubscriptions, &Counts::subscriptions, "subscriptions"},
    {Counter::kSubscriptionsClosed, &Counts::subscriptions_closed, "subscriptions_closed"},
    {Counter::kBytes, &Counts::bytes, "bytes"},
    {Counter::kFrames, &Counts::frames, "frames"},
    {Counter::kGroups, &Counts::groups, "groups"},
    {Counter::kAnnounced, &Counts::announced, "announced"},
    {Counter::kAnnouncedClosed, &Counts::announced_closed, "announced_closed"},
    {Counter::kAnnouncedBytes, &Counts::announced_bytes, "announced_bytes"},
    {Counter::kFetches, &Counts::fetches, "fetches"},
    {Counter::kDatagrams, &Counts::datagrams, "datagrams"},
}};

// The counters that count closes; each closes what the counter before it in
// Counter order opened, and may never be read above it.
constexpr bool IsClosedCounter(Counter c) {
  return c == Counter::kBroadcastsClosed || c == Counter::kSubscriptionsClosed || c == Counter::kAnnouncedClosed;
}

inline uint64_t& Counts::operator[](Counter c) { return this->*kCountFields[static_cast<size_t>(c)].field; }
inline uint64_t Counts::operator[](Counter c) const { return this->*kCountFields[static_cast<size_t>(c)].field; }

inline bool Counts::empty() const {
  for (const CountField& f : kCountFields) {
    if (this->*f.field != 0) return false;
  }
  return true;
}

inline bool operator==(const Counts& a, const Counts& b) {
  for (const CountField& f : kCountFields) {
    if (a.*f.field != b.*f.field) return false;
  }
  return true;
}

// `to - from`, counter by counter: what was added between two readings of
// the same cumulative counters (`from` read first).
inline Counts CountsSince(const Counts& from, const Counts& to) {
  Counts out;
  for (const CountField& f : kCountFields) out.*f.field = to.*f.field - from.*f.field;
  return out;
}

// The counters as atomics. Safe for concurrent access from multiple threads.
//
// Every open is added before the matching close (guards open before they
// close; Add adds opens first), closes are added with release ordering and
// Load reads the closed counts first with acquire ordering, so a reader
// never sees more closed than opened. The other counters are plain relaxed
// sums.
class AtomicCounts {
 public:
  AtomicCounts() = default;
  AtomicCounts(const AtomicCounts&) = delete;
  AtomicCounts& operator=(const AtomicCounts&) = delete;

  std::atomic<uint64_t>& operator[](Counter c) { return values_[static_cast<size_t>(c)]; }
  const std::atomic<uint64_t>& operator[](Counter c) const { return values_[static_cast<size_t>(c)]; }

  // Adds every counter of `delta`: opens and sums first (relaxed), then
  // closes (release).
  void Add(const Counts& delta) {
    for (int pass = 0; pass < 2; ++pass) {
      for (const CountField& f : kCountFields) {
        uint64_t n = delta.*f.field;
        if (n == 0 || IsClosedCounter(f.counter) != (pass == 1)) continue;
        (*this)[f.counter].fetch_add(
            n, IsClosedCounter(f.counter) ? std::memory_order_release : std::memory_order_relaxed);
      }
    }
  }

  // Reads every counter; closed counts never exceed open counts.
  Counts Load() const {
    Counts out;
    // Closed counts first (acquire), then the rest: every open that happened
    // before a close read here is visible to the loads that follow.
    for (const CountField& f : kCountFields) {
      if (IsClosedCounter(f.counter)) out.*f.field = (*this)[f.counter].load(std::memory_order_acquire);
    }
    for (const CountField& f : kCountFields) {
      if (!IsClosedCounter(f.counter)) out.*f.field = (*this)[f.counter].load(std::memory_order_relaxed);
    }
    return out;
  }

 private:
  std::array<std::atomic<uint64_t>, kCounterCount> values_{};
};

}  // namespace moq_stats

#endif  // MOQ_STATS_COUNTS_H_
