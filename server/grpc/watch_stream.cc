#include "server/grpc/watch_stream.h"

#include <utility>

#include "server/grpc/stream_set.h"
#include "server/stats/tier.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// Frames are taken from the origin while fewer events than this wait.
constexpr size_t kMaxQueuedEvents = 256;

}  // namespace

WatchStream::WatchStream(Origin* origin, const Path& prefix, StreamSet* streams)
    : origin_(origin), streams_(streams), link_(this) {
  std::unique_ptr<AnnouncementConsumer> announcements = origin_->Announced(prefix);
  announcements->SetNotify(Notifier());
  {
    absl::MutexLock lock(&mu_);
    announcements_ = std::move(announcements);
  }
  streams_->Add(this, link_.Bind([](WatchStream& stream, const grpc::Status& status) { stream.End(status); }));
  Pump();
}

std::function<void()> WatchStream::Notifier() const {
  return link_.Bind([](WatchStream& stream) { stream.Pump(); });
}

void WatchStream::End(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  FinishLocked(status);
}

void WatchStream::Pump() {
  // Consumers are destroyed outside mu_: a consumer's destructor waits for
  // its running notification, which may be waiting for mu_.
  std::vector<std::unique_ptr<TrackConsumer>> dead;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    CollectLocked(&dead);
    if (!writing_ && !events_.empty()) {
      writing_event_ = std::move(events_.front());
      events_.pop_front();
      writing_ = true;
      StartWrite(&writing_event_);
    }
  }
}

void WatchStream::CollectLocked(std::vector<std::unique_ptr<TrackConsumer>>* dead) {
  while (auto announcement = announcements_->Next()) {
    if (announcement->active) {
      pb::WatchEvent event;
      event.mutable_announce()->set_path(announcement->path.str());
      event.mutable_announce()->set_active(true);
      events_.push_back(std::move(event));
      for (Tier tier : kTiers) {
        for (Role role : kRoles) {
          std::string name(TrackName(tier, role));
          absl::StatusOr<std::unique_ptr<TrackConsumer>> consumer = origin_->Subscribe(announcement->path, name);
          // The broadcast may already have ended; its end follows.
          if (!consumer.ok()) continue;
          (*consumer)->SetNotify(Notifier());
          tracks_.push_back(Track{announcement->path, std::move(name), *std::move(consumer)});
        }
      }
      continue;
    }
    // Ended: its final frames go out before the end.
    for (auto it = tracks_.begin(); it != tracks_.end();) {
      if (it->path != announcement->path) {
        ++it;
        continue;
      }
      DrainTrackLocked(*it);
      dead->push_back(std::move(it->consumer));
      it = tracks_.erase(it);
    }
    pb::WatchEvent event;
    event.mutable_announce()->set_path(announcement->path.str());
    event.mutable_announce()->set_active(false);
    events_.push_back(std::move(event));
  }
  for (Track& track : tracks_) {
    if (events_.size() >= kMaxQueuedEvents) break;
    DrainTrackLocked(track);
  }
}

void WatchStream::DrainTrackLocked(Track& track) {
  while (auto group = track.consumer->Next()) {
    pb::WatchEvent event;
    pb::Frame* frame = event.mutable_frame();
    frame->set_path(track.path.str());
    frame->set_track(track.name);
    frame->set_sequence(group->sequence);
    frame->set_payload(*group->frame);
    events_.push_back(std::move(event));
  }
}

void WatchStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the watcher failed"));
      return;
    }
  }
  Pump();
}

void WatchStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void WatchStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void WatchStream::OnDone() {
  link_.Clear();
  streams_->Remove(this);
  std::unique_ptr<AnnouncementConsumer> announcements;
  std::vector<Track> tracks;
  {
    absl::MutexLock lock(&mu_);
    announcements = std::move(announcements_);
    tracks = std::move(tracks_);
  }
  // Destroying the consumers (outside mu_) waits for any notification still
  // running; none starts after.
  announcements.reset();
  tracks.clear();
  delete this;
}

}  // namespace moq_stats::server
