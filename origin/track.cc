// The tracks and consumers of origin.h: TrackProducer, TrackConsumer and
// AnnouncementConsumer.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "origin/internal/origin_state.h"
#include "origin/origin.h"

namespace moq_stats {

using internal::AnnouncementConsumerState;
using internal::BroadcastState;
using internal::OriginState;
using internal::TrackConsumerState;
using internal::TrackState;

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
absl::StatusOr<Group> WriteToTrack(TrackState& track, std::shared_ptr<const std::string> bytes, WriteMode mode) {
  Group frame{0, std::move(bytes)};
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
  return WriteFrame(std::make_shared<const std::string>(std::move(frame)));
}

uint64_t TrackProducer::WriteFrame(std::shared_ptr<const std::string> frame) {
  // Never fails: only appending does.
  return internal::WriteToTrack(*state_, std::move(frame), internal::WriteMode::kSingle)->sequence;
}

uint64_t TrackProducer::StartGroup(std::string frame) {
  return internal::WriteToTrack(*state_, std::make_shared<const std::string>(std::move(frame)),
                                internal::WriteMode::kStart)
      ->sequence;
}

absl::StatusOr<uint32_t> TrackProducer::AppendFrame(std::string frame) {
  absl::StatusOr<Group> written = internal::WriteToTrack(*state_, std::make_shared<const std::string>(std::move(frame)),
                                                         internal::WriteMode::kAppend);
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
