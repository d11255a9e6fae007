#include "origin/origin.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace moq_stats {
namespace internal {

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

namespace {

// Debian 12's Abseil is built with its own absl::string_view, distinct from
// std::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

template <typename ConsumerStatePtr>
void NotifyAll(const std::vector<ConsumerStatePtr>& consumers) {
  for (const auto& consumer : consumers) consumer->notifier.Run();
}

// Ends `track`: no group will be written any more, every consumer sees the end
// once it has read what is queued, and no consumer is added after.
void EndTrack(TrackState& track) {
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

}  // namespace
}  // namespace internal

using internal::AnnouncementConsumerState;
using internal::BroadcastState;
using internal::OriginState;
using internal::TrackConsumerState;
using internal::TrackState;

// --- Origin ---

Origin::Origin() : state_(std::make_shared<OriginState>()) {}

Origin::~Origin() = default;

absl::StatusOr<std::unique_ptr<BroadcastProducer>> Origin::Publish(const Path& path,
                                                                   const std::vector<std::string>& tracks) {
  auto broadcast = std::make_shared<BroadcastState>(path, state_);
  auto producer = std::unique_ptr<BroadcastProducer>(new BroadcastProducer(broadcast));
  // The tracks exist before anyone hears of the broadcast, so a consumer
  // that subscribes on its announcement finds them.
  for (const std::string& name : tracks) {
    absl::StatusOr<TrackProducer*> track = producer->CreateTrack(name);
    if (!track.ok()) return absl::InvalidArgumentError(std::string(track.status().message()));
  }
  std::vector<std::shared_ptr<AnnouncementConsumerState>> to_notify;
  {
    absl::MutexLock lock(&state_->mu);
    auto [it, inserted] = state_->broadcasts.try_emplace(path, broadcast);
    if (!inserted) {
      // The producer's destructor leaves the active broadcast alone.
      return absl::AlreadyExistsError(absl::StrCat("a broadcast is already active at path \"", path.str(), "\""));
    }
    to_notify = state_->Announce(Announcement{path, true});
  }
  internal::NotifyAll(to_notify);
  return producer;
}

std::unique_ptr<AnnouncementConsumer> Origin::Announced(const Path& prefix) {
  auto consumer = std::make_shared<AnnouncementConsumerState>(prefix);
  std::vector<Path> active;
  {
    absl::MutexLock lock(&state_->mu);
    for (const auto& [path, broadcast] : state_->broadcasts) {
      if (path.has_prefix(prefix)) active.push_back(path);
    }
    std::sort(active.begin(), active.end());
    {
      absl::MutexLock consumer_lock(&consumer->mu);
      for (Path& path : active) consumer->pending.push_back(Announcement{std::move(path), true});
    }
    // Registering under the same lock as the snapshot: every later change is
    // queued after it, none is missed and none repeated.
    auto& list = state_->announcement_consumers;
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& weak) { return weak.expired(); }), list.end());
    list.push_back(consumer);
  }
  return std::unique_ptr<AnnouncementConsumer>(new AnnouncementConsumer(std::move(consumer)));
}

absl::StatusOr<std::unique_ptr<TrackConsumer>> Origin::Subscribe(const Path& path, std::string_view track) {
  std::shared_ptr<BroadcastState> broadcast;
  {
    absl::MutexLock lock(&state_->mu);
    auto it = state_->broadcasts.find(path);
    if (it != state_->broadcasts.end()) broadcast = it->second;
  }
  if (broadcast == nullptr) {
    return absl::NotFoundError(absl::StrCat("no broadcast is active at path \"", path.str(), "\""));
  }

  std::shared_ptr<TrackState> track_state;
  {
    absl::MutexLock lock(&broadcast->mu);
    auto it = broadcast->tracks.find(internal::AsAbsl(track));
    if (it != broadcast->tracks.end()) track_state = it->second.state;
  }
  auto not_found = [&] {
    return absl::NotFoundError(
        absl::StrCat("broadcast \"", path.str(), "\" has no track \"", internal::AsAbsl(track), "\""));
  };
  if (track_state == nullptr) return not_found();

  auto consumer = std::make_shared<TrackConsumerState>();
  {
    absl::MutexLock lock(&track_state->mu);
    // The broadcast ended between the lookups above and here.
    if (track_state->ended) return not_found();
    // Seeding and registering under the track's lock: the latest group comes
    // first, then every later one, with no gap and no repeat.
    if (!track_state->latest.empty()) {
      absl::MutexLock consumer_lock(&consumer->mu);
      for (const Group& frame : track_state->latest) consumer->Push(frame);
    }
    auto& list = track_state->consumers;
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& weak) { return weak.expired(); }), list.end());
    list.push_back(consumer);
  }
  return std::unique_ptr<TrackConsumer>(new TrackConsumer(std::move(consumer)));
}

size_t Origin::broadcast_count() const {
  absl::MutexLock lock(&state_->mu);
  return state_->broadcasts.size();
}

bool Origin::has_broadcast(const Path& path) const {
  absl::MutexLock lock(&state_->mu);
  return state_->broadcasts.contains(path);
}

// --- BroadcastProducer ---

BroadcastProducer::BroadcastProducer(std::shared_ptr<BroadcastState> state) : state_(std::move(state)) {}

BroadcastProducer::~BroadcastProducer() {
  // Unannounce first, so no new subscriber finds the broadcast, then end the
  // tracks. Once the origin is gone there is nothing to unannounce.
  if (std::shared_ptr<OriginState> origin = state_->origin.lock()) {
    std::vector<std::shared_ptr<AnnouncementConsumerState>> to_notify;
    {
      absl::MutexLock lock(&origin->mu);
      auto it = origin->broadcasts.find(state_->path);
      if (it != origin->broadcasts.end() && it->second == state_) {
        origin->broadcasts.erase(it);
        to_notify = origin->Announce(Announcement{state_->path, false});
      }
    }
    internal::NotifyAll(to_notify);
  }

  absl::flat_hash_map<std::string, BroadcastState::Track> tracks;
  {
    absl::MutexLock lock(&state_->mu);
    tracks.swap(state_->tracks);
  }
  // Destroying each TrackProducer ends its track (see ~TrackProducer).
  tracks.clear();
}

const Path& BroadcastProducer::path() const { return state_->path; }

TrackProducer* BroadcastProducer::track(std::string_view name) const {
  absl::MutexLock lock(&state_->mu);
  auto it = state_->tracks.find(internal::AsAbsl(name));
  return it == state_->tracks.end() ? nullptr : it->second.producer.get();
}

absl::StatusOr<TrackProducer*> BroadcastProducer::CreateTrack(std::string_view name) {
  absl::MutexLock lock(&state_->mu);
  if (state_->tracks.contains(internal::AsAbsl(name))) {
    return absl::AlreadyExistsError(
        absl::StrCat("broadcast \"", state_->path.str(), "\" already has a track \"", internal::AsAbsl(name), "\""));
  }
  auto track = std::make_shared<TrackState>(std::string(name));
  auto producer = std::unique_ptr<TrackProducer>(new TrackProducer(track));
  TrackProducer* result = producer.get();
  state_->tracks.emplace(std::string(name), BroadcastState::Track{std::move(track), std::move(producer)});
  return result;
}

// --- TrackProducer ---

TrackProducer::TrackProducer(std::shared_ptr<TrackState> state) : state_(std::move(state)) {}

TrackProducer::~TrackProducer() { internal::EndTrack(*state_); }

const std::string& TrackProducer::name() const { return state_->name; }

namespace internal {
namespace {

enum class WriteMode {
  kSingle,  // a new, complete group of one frame
  kStart,   // frame 0 of a new group left open
  kAppend,  // the next frame of the open group
};

// Writes `bytes` to `track` as `mode` says, queues the frame for every
// consumer and notifies them.
absl::StatusOr<Group> WriteToTrack(TrackState& track, std::string bytes, WriteMode mode) {
  Group frame{0, std::make_shared<const std::string>(std::move(bytes))};
  frame.complete = mode == WriteMode::kSingle;
  // The group this one replaces as latest; released after the lock so its
  // frames, when this was their last holder, are freed outside it.
  std::vector<Group> replaced;
  // Left empty (no allocation) when the track has no consumers.
  std::vector<std::shared_ptr<TrackConsumerState>> to_notify;
  {
    absl::MutexLock lock(&track.mu);
    if (mode == WriteMode::kAppend) {
      if (!track.open || track.latest.empty()) {
        return absl::FailedPreconditionError(absl::StrCat("track \"", track.name, "\" has no open group"));
      }
      if (track.latest.size() >= TrackProducer::kMaxGroupFrames) {
        return absl::ResourceExhaustedError(absl::StrCat("the open group of track \"", track.name, "\" holds ",
                                                         TrackProducer::kMaxGroupFrames, " frames"));
      }
      frame.sequence = track.latest.front().sequence;
      frame.index = static_cast<uint32_t>(track.latest.size());
    } else {
      frame.sequence = track.next_sequence++;
      track.open = mode == WriteMode::kStart;
      replaced.swap(track.latest);
    }
    auto& list = track.consumers;
    if (!list.empty()) {
      to_notify.reserve(list.size());
      for (size_t i = 0; i < list.size();) {
        std::shared_ptr<TrackConsumerState> consumer = list[i].lock();
        if (consumer == nullptr) {
          list[i] = std::move(list.back());
          list.pop_back();
          continue;
        }
        ++i;
        {
          absl::MutexLock consumer_lock(&consumer->mu);
          consumer->Push(frame);
        }
        to_notify.push_back(std::move(consumer));
      }
    }
    track.latest.push_back(frame);
  }
  NotifyAll(to_notify);
  return frame;
}

}  // namespace
}  // namespace internal

uint64_t TrackProducer::WriteFrame(std::string frame) {
  // Never fails: only appending does.
  return internal::WriteToTrack(*state_, std::move(frame), internal::WriteMode::kSingle)->sequence;
}

uint64_t TrackProducer::StartGroup(std::string frame) {
  return internal::WriteToTrack(*state_, std::move(frame), internal::WriteMode::kStart)->sequence;
}

absl::StatusOr<uint32_t> TrackProducer::AppendFrame(std::string frame) {
  absl::StatusOr<Group> written = internal::WriteToTrack(*state_, std::move(frame), internal::WriteMode::kAppend);
  if (!written.ok()) return written.status();
  return written->index;
}

std::optional<Group> TrackProducer::latest() const {
  absl::MutexLock lock(&state_->mu);
  if (state_->latest.empty()) return std::nullopt;
  return state_->latest.back();
}

std::vector<Group> TrackProducer::latest_group() const {
  absl::MutexLock lock(&state_->mu);
  return state_->latest;
}

// --- TrackConsumer ---

TrackConsumer::TrackConsumer(std::shared_ptr<TrackConsumerState> state) : state_(std::move(state)) {}

TrackConsumer::~TrackConsumer() {
  // A writer may still hold the state for a moment; make sure it will not
  // call back into whatever the callback captured, which may go with us.
  state_->notifier.Set(nullptr);
}

std::optional<Group> TrackConsumer::Next() {
  absl::MutexLock lock(&state_->mu);
  return state_->Pop();
}

size_t TrackConsumer::pending() const {
  absl::MutexLock lock(&state_->mu);
  return state_->pending.size();
}

bool TrackConsumer::ended() const {
  absl::MutexLock lock(&state_->mu);
  return state_->ended && state_->pending.empty();
}

uint64_t TrackConsumer::dropped() const {
  absl::MutexLock lock(&state_->mu);
  return state_->dropped;
}

void TrackConsumer::SetNotify(std::function<void()> notify) { state_->notifier.Set(std::move(notify)); }

// --- AnnouncementConsumer ---

AnnouncementConsumer::AnnouncementConsumer(std::shared_ptr<AnnouncementConsumerState> state)
    : state_(std::move(state)) {}

AnnouncementConsumer::~AnnouncementConsumer() { state_->notifier.Set(nullptr); }

const Path& AnnouncementConsumer::prefix() const { return state_->prefix; }

std::optional<Announcement> AnnouncementConsumer::Next() {
  absl::MutexLock lock(&state_->mu);
  if (state_->pending.empty()) return std::nullopt;
  Announcement announcement = std::move(state_->pending.front());
  state_->pending.pop_front();
  return announcement;
}

void AnnouncementConsumer::SetNotify(std::function<void()> notify) { state_->notifier.Set(std::move(notify)); }

}  // namespace moq_stats
