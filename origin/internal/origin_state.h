#ifndef MOQ_STATS_ORIGIN_INTERNAL_ORIGIN_STATE_H_
#define MOQ_STATS_ORIGIN_INTERNAL_ORIGIN_STATE_H_

// The shared state behind the handles of origin.h, and the helpers the
// origin's two source files (origin.cc: the origin and its broadcasts;
// track.cc: tracks and consumers) both use. Private to origin/.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "origin/origin.h"

namespace moq_stats::internal {

// Shared state behind the handles of origin.h. Every handle holds its state
// through a shared_ptr, so a handle stays safe to use whatever else is gone;
// lists of consumers hold weak_ptrs and are pruned as their consumers go.
//
// Lock order. A thread holding a lock on the left may take one on the right,
// never the reverse:
//
//   OriginState::mu   -> AnnouncementConsumerState::mu
//   TrackState::mu    -> TrackConsumerState::mu
//   Notifier::mu      -> any *ConsumerState::mu (a callback calling Next())
//
// OriginState::mu, BroadcastState::mu and TrackState::mu are never held
// together: each operation looks up what it needs under one, copies a
// shared_ptr and lets go before taking the next. The consumer queue locks
// (*ConsumerState::mu) are leaves: nothing is taken while one is held.
// Notifier::mu is taken by SetNotify, by a consumer's destructor, and by a
// writer after it has queued its item and let go of every other lock, so no
// origin, broadcast, track or queue lock is ever held while a callback runs.
// A callback that itself writes or publishes takes those locks, and other
// consumers' Notifier::mu, under its own Notifier::mu; that stays
// deadlock-free as long as callbacks do not write to each other's tracks in
// a cycle.

// A consumer's notify callback. Held under its own mutex, which is also held
// while the callback runs: Set() therefore waits for a running callback to
// return, which is what lets SetNotify promise that the old callback is not
// running and won't run again once it returns. A callback must not call
// SetNotify on (or destroy) its own consumer: that would wait for itself.
struct Notifier {
  void Set(std::function<void()> fn) {
    std::function<void()> old;
    {
      absl::MutexLock lock(&mu);
      old = std::exchange(callback, std::move(fn));
    }
    // The old callback's captures are destroyed here, with no lock held.
  }

  void Run() {
    absl::MutexLock lock(&mu);
    if (callback) callback();
  }

  absl::Mutex mu;
  std::function<void()> callback ABSL_GUARDED_BY(mu);
};

struct TrackConsumerState {
  Notifier notifier;

  absl::Mutex mu;
  // Guarded by mu.
  std::deque<Group> pending ABSL_GUARDED_BY(mu);  // frames, in order
  size_t pending_groups ABSL_GUARDED_BY(mu) = 0;  // distinct groups in pending
  bool ended ABSL_GUARDED_BY(mu) = false;         // no frame will arrive any more
  uint64_t dropped ABSL_GUARDED_BY(mu) = 0;

  // Queues `frame`; then, while more than kMaxPending groups or
  // kMaxPendingFrames frames wait, skips the oldest waiting group whole. The
  // group `frame` belongs to (the one being written) is never skipped: it
  // holds at most kMaxGroupFrames frames, so the bounds hold.
  void Push(Group frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (pending.empty() || pending.back().sequence != frame.sequence) ++pending_groups;
    pending.push_back(std::move(frame));
    while ((pending_groups > TrackConsumer::kMaxPending || pending.size() > TrackConsumer::kMaxPendingFrames) &&
           pending.front().sequence != pending.back().sequence) {
      const uint64_t oldest = pending.front().sequence;
      while (pending.front().sequence == oldest) pending.pop_front();
      --pending_groups;
      ++dropped;
    }
  }

  std::optional<Group> Pop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (pending.empty()) return std::nullopt;
    Group frame = std::move(pending.front());
    pending.pop_front();
    if (pending.empty() || pending.front().sequence != frame.sequence) --pending_groups;
    return frame;
  }
};

struct AnnouncementConsumerState {
  explicit AnnouncementConsumerState(Path p) : prefix(std::move(p)) {}

  // Constant after construction.
  const Path prefix;

  Notifier notifier;

  absl::Mutex mu;
  // Guarded by mu.
  std::deque<Announcement> pending ABSL_GUARDED_BY(mu);
};

struct TrackState {
  explicit TrackState(std::string n) : name(std::move(n)) {}

  // Constant after construction.
  const std::string name;

  absl::Mutex mu;
  // Guarded by mu.
  uint64_t next_sequence ABSL_GUARDED_BY(mu) = 0;
  // Every frame of the latest group, from its frame 0.
  std::vector<Group> latest ABSL_GUARDED_BY(mu);
  // The latest group was opened by StartGroup and takes AppendFrame.
  bool open ABSL_GUARDED_BY(mu) = false;
  // True once the track's producer is gone; no consumer is added after.
  bool ended ABSL_GUARDED_BY(mu) = false;
  std::vector<std::weak_ptr<TrackConsumerState>> consumers ABSL_GUARDED_BY(mu);
};

struct BroadcastState {
  BroadcastState(Path p, std::weak_ptr<OriginState> o) : path(std::move(p)), origin(std::move(o)) {}

  // Constant after construction.
  const Path path;
  const std::weak_ptr<OriginState> origin;

  struct Track {
    std::shared_ptr<TrackState> state;        // what Subscribe looks up
    std::unique_ptr<TrackProducer> producer;  // what CreateTrack hands out
  };

  absl::Mutex mu;
  // Guarded by mu. Emptied when the BroadcastProducer is destroyed.
  absl::flat_hash_map<std::string, Track> tracks ABSL_GUARDED_BY(mu);
};

struct OriginState {
  absl::Mutex mu;
  // Guarded by mu.
  absl::flat_hash_map<Path, std::shared_ptr<BroadcastState>> broadcasts ABSL_GUARDED_BY(mu);
  std::vector<std::weak_ptr<AnnouncementConsumerState>> announcement_consumers ABSL_GUARDED_BY(mu);

  // Queues `announcement` for every live announcement consumer whose prefix
  // matches, prunes the dead ones, and returns the matching ones so the
  // caller can notify them once it has let go of `mu`.
  std::vector<std::shared_ptr<AnnouncementConsumerState>> Announce(const Announcement& announcement)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::vector<std::shared_ptr<AnnouncementConsumerState>> to_notify;
    auto& list = announcement_consumers;
    for (size_t i = 0; i < list.size();) {
      std::shared_ptr<AnnouncementConsumerState> consumer = list[i].lock();
      if (consumer == nullptr) {
        list[i] = std::move(list.back());
        list.pop_back();
        continue;
      }
      ++i;
      if (!announcement.path.has_prefix(consumer->prefix)) continue;
      {
        absl::MutexLock lock(&consumer->mu);
        consumer->pending.push_back(announcement);
      }
      to_notify.push_back(std::move(consumer));
    }
    return to_notify;
  }
};

// Debian 12's Abseil is built with its own absl::string_view, distinct from
// std::string_view.
inline absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

template <typename ConsumerStatePtr>
inline void NotifyAll(const std::vector<ConsumerStatePtr>& consumers) {
  for (const auto& consumer : consumers) consumer->notifier.Run();
}

// Ends `track`: no group will be written any more, every consumer sees the end
// once it has read what is queued, and no consumer is added after.
inline void EndTrack(TrackState& track) {
  std::vector<std::shared_ptr<TrackConsumerState>> to_notify;
  {
    absl::MutexLock lock(&track.mu);
    if (track.ended) return;
    track.ended = true;
    to_notify.reserve(track.consumers.size());
    for (const auto& weak : track.consumers) {
      std::shared_ptr<TrackConsumerState> consumer = weak.lock();
      if (consumer == nullptr) continue;
      {
        absl::MutexLock consumer_lock(&consumer->mu);
        consumer->ended = true;
      }
      to_notify.push_back(std::move(consumer));
    }
    track.consumers.clear();
  }
  NotifyAll(to_notify);
}

}  // namespace moq_stats::internal

#endif  // MOQ_STATS_ORIGIN_INTERNAL_ORIGIN_STATE_H_
