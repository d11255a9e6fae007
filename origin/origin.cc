#include "origin/origin.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "origin/internal/origin_state.h"

namespace moq_stats {

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

}  // namespace moq_stats
