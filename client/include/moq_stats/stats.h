#ifndef MOQ_STATS_STATS_H_
#define MOQ_STATS_STATS_H_

// The relay-side library of moq-stats-sidecar: count a relay's traffic with
// the guard API of moq-net's stats module (broadcast and track guards, one
// bump per frame, byte and group), and let a background flusher carry the
// counts to the sidecar over gRPC.
//
//   moq_stats::Stats stats = moq_stats::Stats::Connect("unix:/run/moq-stats/moq-stats.sock");
//   moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast("anon/bbb");
//   moq_stats::PublisherStats publisher = bs.publisher();        // broadcasts += 1
//   moq_stats::PublisherTrack track = publisher.track("video");  // subscriptions += 1
//   track.bytes(1200); track.frame(); track.group();             // one relaxed atomic add each
//   // dropping the guards counts subscriptions_closed and broadcasts_closed
//   stats.Shutdown(std::chrono::seconds(2));
//
// The hot path (frame, bytes, group) is one relaxed atomic add on a
// cache-line-aligned slot of the broadcast handle: no lock, no allocation, no
// system call, no wait, whatever the sidecar's aggregation depth (the fan-out
// to levels happens in the sidecar). A background thread sends the changes as
// batched deltas every flush interval; what it keeps is bounded by the number
// of live handles, never by the rate of bumps or by how long the sidecar has
// been away. A sidecar that is down, restarting or slow never blocks or
// crashes the relay: the library reconnects with backoff and jitter, resumes
// its session, resends what was not acknowledged and, when the sidecar lost
// the session, resynchronises the guards still open.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "moq_stats/counts.h"

namespace moq_stats {

struct Options {
  // Names the session to the sidecar; the same for every reconnect of this
  // Stats. Empty: a random id made at Connect.
  std::string session_id;
  // Shown in the sidecar's logs. Optional.
  std::string relay_name;
  // Paths under this prefix are counted nowhere (the sidecar's stats
  // broadcasts must not count as traffic). Keep it equal to the sidecar's
  // --stats-prefix.
  std::string prefix = ".stats";
  // How often changes are sent.
  std::chrono::milliseconds flush_interval{50};
  // Entries (defines, deltas, releases) per batch; a flush with more changes
  // sends several batches at once.
  uint32_t max_batch_entries = 1024;
  // Batches sent and not yet acknowledged before the flusher waits.
  uint32_t max_inflight_batches = 16;
  // Reconnect backoff: doubles from min to max, with jitter.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  // Credentials for a sidecar listening on TCP (a unix socket needs none).
  // A file holding the bearer token (the first non-blank line not starting
  // with '#'), sent as `authorization: Bearer TOKEN` on every stream; empty:
  // none.
  std::string auth_token_file;
  // TLS: the CA bundle (PEM) the sidecar's certificate is checked against
  // (TLS is used when it or tls_cert_file is set), and for mutual TLS the
  // client certificate chain and key (PEM). Files that cannot be read leave
  // the library unconnected, with the reason in ClientCounters::last_error.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The library's own counters, for a relay's logs and metrics.
struct ClientCounters {
  bool connected = false;     // a stream is open and welcomed
  uint64_t batches_sent = 0;  // including resends
  uint64_t batches_acked = 0;
  uint64_t deltas_sent = 0;      // handle-deltas in the batches sent
  uint64_t reconnects = 0;       // streams opened after the first
  uint64_t resyncs = 0;          // times the sidecar had lost the session's state
  uint64_t live_handles = 0;     // broadcast handles alive in this library
  uint64_t pending_batches = 0;  // sent and not acknowledged
  std::string last_error;        // the last stream error, empty if none
};

namespace internal {
class ClientCore;
struct Handle;

// The counters of one (handle, role), alone on their cache lines so that
// bumps on different broadcasts never share one.
struct alignas(64) RoleSlot : AtomicCounts {};

// The handle's role slot, or null for an empty handle.
RoleSlot* SlotOf(const std::shared_ptr<Handle>& handle, Role role);
// The byte length of the handle's (normalised) path; 0 for an empty handle.
uint64_t PathBytesOf(const std::shared_ptr<Handle>& handle);
}  // namespace internal

class StatsHandle;
class BroadcastStats;
class SessionGuard;
template <Role R>
class BroadcastGuard;
template <Role R>
class TrackGuard;
template <Role R>
class AnnounceGuard;
using PublisherStats = BroadcastGuard<Role::kPublisher>;
using SubscriberStats = BroadcastGuard<Role::kSubscriber>;
using PublisherTrack = TrackGuard<Role::kPublisher>;
using SubscriberTrack = TrackGuard<Role::kSubscriber>;
using PublisherAnnounce = AnnounceGuard<Role::kPublisher>;
using SubscriberAnnounce = AnnounceGuard<Role::kSubscriber>;

// The library's entry point: one per relay process. Cheap to copy (copies
// share everything). Safe for concurrent access from multiple threads
// without external synchronization.
class Stats {
 public:
  // Starts the flusher, which connects to `target` ("unix:/path" or
  // "host:port") in the background. Never blocks and never fails: an
  // unreachable sidecar is retried, and counts wait in the handles' slots.
  static Stats Connect(const std::string& target, Options options = {});

  // A no-op library: every handle is empty and nothing is sent.
  static Stats Disabled();

  // Same as Disabled().
  Stats() = default;

  bool enabled() const { return core_ != nullptr; }

  // A handle whose bumps land in `tier`.
  StatsHandle tier(Tier tier) const;
  // A handle on the tier named `label`: "" and "external" are
  // Tier::kExternal, "internal" is Tier::kInternal, and any other one path
  // segment (UTF-8, at most 64 bytes, not "." or "..") is a named tier,
  // which the sidecar's node format publishes as `<label>/publisher.json`,
  // ... and the level format counts nowhere. An invalid label gives an
  // empty handle.
  StatsHandle tier(std::string_view label) const;

  // Flushes what is pending, waits up to `deadline` for the sidecar to
  // acknowledge it, and closes the session (the sidecar then forgets it).
  // Returns true when everything was acknowledged. After it, bumps are
  // still safe but no longer sent. Destroying the last copy of a Stats
  // without Shutdown loses at most one flush interval of counts; the
  // sidecar closes the guards left open after its grace period.
  bool Shutdown(std::chrono::milliseconds deadline);

  ClientCounters counters() const;

 private:
  friend class StatsHandle;
  explicit Stats(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<internal::ClientCore> core_;
};

// A tier-scoped handle on a Stats. Cheap to copy; safe for concurrent use.
class StatsHandle {
 public:
  StatsHandle() = default;
  Tier tier() const { return tier_; }

  // The per-broadcast handle of `path` (normalised: "//a//b/" is "a/b"). One
  // (path, tier) is one handle, shared by every call. Empty (every bump a
  // no-op) for paths under the configured prefix, paths the sidecar would
  // refuse (not UTF-8, over 1024 bytes, over 32 segments) and a disabled
  // Stats. Takes a lock: call it when a broadcast starts, not per frame.
  BroadcastStats broadcast(std::string_view path) const;

  // Opens a session guard: one MoQ session accepted under `auth_root` (the
  // path its token scopes it to; "" for none, as for cluster peers) in this
  // tier. sessions += 1 now, sessions_closed += 1 when dropped; the node
  // format's `sessions.json` shows them. Sent only to a sidecar that says it
  // understands session presence. Takes a lock: call it when a session
  // starts.
  [[nodiscard]] SessionGuard session(std::string_view auth_root) const;

 private:
  friend class Stats;
  StatsHandle(std::shared_ptr<internal::ClientCore> core, Tier tier, std::string label = "")
      : core_(std::move(core)), tier_(tier), label_(std::move(label)) {}
  std::shared_ptr<internal::ClientCore> core_;
  Tier tier_ = Tier::kExternal;
  std::string label_;  // a named tier, or empty
};

// A per-broadcast, tier-scoped handle. Cheap to copy; safe for concurrent
// use. Keeps the handle alive (and its counts flowing) while it or any guard
// opened from it lives.
class BroadcastStats {
 public:
  BroadcastStats() = default;
  bool empty() const { return handle_ == nullptr; }

  // Broadcast guards: broadcasts += 1 now, broadcasts_closed += 1 when
  // dropped.
  [[nodiscard]] PublisherStats publisher() const;
  [[nodiscard]] SubscriberStats subscriber() const;

  // Track guards without a broadcast guard (its lifetime is counted
  // elsewhere): subscriptions += 1 now, subscriptions_closed += 1 when
  // dropped. `name` is reserved for per-track counters.
  [[nodiscard]] PublisherTrack publisher_track(std::string_view name) const;
  [[nodiscard]] SubscriberTrack subscriber_track(std::string_view name) const;

  // Announce guards: announced += 1 now and announced_closed += 1 when
  // dropped, each adding the path's length in bytes to announced_bytes. The
  // publisher role announces the broadcast to a peer; the subscriber role
  // receives a peer's announcement. Counted by the node format only.
  [[nodiscard]] PublisherAnnounce publisher_announce() const;
  [[nodiscard]] SubscriberAnnounce subscriber_announce() const;

 private:
  friend class StatsHandle;
  template <Role R>
  friend class BroadcastGuard;
  template <Role R>
  friend class TrackGuard;
  template <Role R>
  friend class AnnounceGuard;
  explicit BroadcastStats(std::shared_ptr<internal::Handle> handle) : handle_(std::move(handle)) {}
  std::shared_ptr<internal::Handle> handle_;
};

// RAII broadcast guard. Move-only: it is the one record of an open broadcast,
// closed exactly once. Use from one thread at a time.
template <Role R>
class [[nodiscard]] BroadcastGuard {
 public:
  BroadcastGuard() = default;
  BroadcastGuard(BroadcastGuard&& other) noexcept
      : handle_(std::move(other.handle_)), slot_(std::exchange(other.slot_, nullptr)) {}
  BroadcastGuard& operator=(BroadcastGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  BroadcastGuard(const BroadcastGuard&) = delete;
  BroadcastGuard& operator=(const BroadcastGuard&) = delete;
  ~BroadcastGuard() { Close(); }

  // True when this guard counts nothing (a disabled Stats, a default or
  // moved-from guard, an invalid path).
  bool empty() const { return slot_ == nullptr; }

  // A track guard under this broadcast.
  [[nodiscard]] TrackGuard<R> track(std::string_view /*name*/) const { return TrackGuard<R>(BroadcastStats(handle_)); }

  // fetches += 1: a one-shot group fetch of this broadcast (counted when
  // requested, found or not).
  void fetch() const {
    if (slot_) (*slot_)[Counter::kFetches].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  friend class BroadcastStats;
  explicit BroadcastGuard(std::shared_ptr<internal::Handle> handle)
      : handle_(std::move(handle)), slot_(internal::SlotOf(handle_, R)) {
    if (slot_) (*slot_)[Counter::kBroadcasts].fetch_add(1, std::memory_order_relaxed);
  }
  void Close() {
    // Release: the sidecar must never see this close before the open.
    if (slot_) (*slot_)[Counter::kBroadcastsClosed].fetch_add(1, std::memory_order_release);
    slot_ = nullptr;
    handle_.reset();
  }

  std::shared_ptr<internal::Handle> handle_;
  internal::RoleSlot* slot_ = nullptr;
};

// RAII track guard, move-only like BroadcastGuard. Its bumps may be called
// from any thread; each is one relaxed atomic add.
template <Role R>
class [[nodiscard]] TrackGuard {
 public:
  TrackGuard() = default;
  TrackGuard(TrackGuard&& other) noexcept
      : handle_(std::move(other.handle_)), slot_(std::exchange(other.slot_, nullptr)) {}
  TrackGuard& operator=(TrackGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  TrackGuard(const TrackGuard&) = delete;
  TrackGuard& operator=(const TrackGuard&) = delete;
  ~TrackGuard() { Close(); }

  // frames += 1
  void frame() const {
    if (slot_) (*slot_)[Counter::kFrames].fetch_add(1, std::memory_order_relaxed);
  }
  // bytes += n
  void bytes(uint64_t n) const {
    if (slot_) (*slot_)[Counter::kBytes].fetch_add(n, std::memory_order_relaxed);
  }
  // groups += 1
  void group() const {
    if (slot_) (*slot_)[Counter::kGroups].fetch_add(1, std::memory_order_relaxed);
  }
  // datagrams += 1: a group of one frame sent or received as a datagram.
  // Count its group, frame and bytes too, as for any group.
  void datagram() const {
    if (slot_) (*slot_)[Counter::kDatagrams].fetch_add(1, std::memory_order_relaxed);
  }
  // fetches += 1: a one-shot group fetch on this track.
  void fetch() const {
    if (slot_) (*slot_)[Counter::kFetches].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  friend class BroadcastStats;
  template <Role>
  friend class BroadcastGuard;
  explicit TrackGuard(BroadcastStats broadcast)
      : handle_(std::move(broadcast.handle_)), slot_(internal::SlotOf(handle_, R)) {
    if (slot_) (*slot_)[Counter::kSubscriptions].fetch_add(1, std::memory_order_relaxed);
  }
  void Close() {
    if (slot_) (*slot_)[Counter::kSubscriptionsClosed].fetch_add(1, std::memory_order_release);
    slot_ = nullptr;
    handle_.reset();
  }

  std::shared_ptr<internal::Handle> handle_;
  internal::RoleSlot* slot_ = nullptr;
};

// RAII announce guard, move-only like BroadcastGuard. Opening adds 1 to
// announced and the path's length to announced_bytes; dropping adds 1 to
// announced_closed and the length again. The bytes are added before the
// close, so a reader that sees the close sees its bytes.
template <Role R>
class [[nodiscard]] AnnounceGuard {
 public:
  AnnounceGuard() = default;
  AnnounceGuard(AnnounceGuard&& other) noexcept
      : handle_(std::move(other.handle_)), slot_(std::exchange(other.slot_, nullptr)) {}
  AnnounceGuard& operator=(AnnounceGuard&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::move(other.handle_);
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  AnnounceGuard(const AnnounceGuard&) = delete;
  AnnounceGuard& operator=(const AnnounceGuard&) = delete;
  ~AnnounceGuard() { Close(); }

 private:
  friend class BroadcastStats;
  explicit AnnounceGuard(BroadcastStats broadcast)
      : handle_(std::move(broadcast.handle_)), slot_(internal::SlotOf(handle_, R)) {
    if (!slot_) return;
    (*slot_)[Counter::kAnnouncedBytes].fetch_add(internal::PathBytesOf(handle_), std::memory_order_relaxed);
    (*slot_)[Counter::kAnnounced].fetch_add(1, std::memory_order_relaxed);
  }
  void Close() {
    if (slot_) {
      (*slot_)[Counter::kAnnouncedBytes].fetch_add(internal::PathBytesOf(handle_), std::memory_order_relaxed);
      (*slot_)[Counter::kAnnouncedClosed].fetch_add(1, std::memory_order_release);
    }
    slot_ = nullptr;
    handle_.reset();
  }

  std::shared_ptr<internal::Handle> handle_;
  internal::RoleSlot* slot_ = nullptr;
};

}  // namespace moq_stats

// SessionGuard, which StatsHandle::session returns.
#include "moq_stats/session_guard.h"  // IWYU pragma: export

#endif  // MOQ_STATS_STATS_H_
