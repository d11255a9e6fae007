#include "server/grpc/watch_stream.h"

#include <utility>

#include "common/logging.h"
#include "server/grpc/grpc_status.h"
#include "server/grpc/stream_set.h"
#include "server/stats/tier.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

WatchStream::WatchStream(Origin* origin, const Path& prefix, StreamSet* streams, WatchQueueLimits limits)
    : origin_(origin), streams_(streams), link_(this), queue_(limits) {
  std::unique_ptr<AnnouncementConsumer> announcements = origin_->Announced(prefix);
  announcements->SetNotify(link_.Bind([](WatchStream& stream) { stream.OnAnnouncements(); }));
  {
    absl::MutexLock lock(&announce_mu_);
    announcements_ = std::move(announcements);
  }
  streams_->Add(this, link_.Bind([](WatchStream& stream, const grpc::Status& status) { stream.End(status); }));
  // What was announced before the notification was set.
  OnAnnouncements();
}

void WatchStream::End(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  FinishLocked(status);
}

void WatchStream::OnAnnouncements() {
  absl::MutexLock announce_lock(&announce_mu_);
  if (!announcements_) return;
  while (std::optional<Announcement> announcement = announcements_->Next()) {
    if (announcement->active) {
      Announced(announcement->path);
    } else {
      Ended(announcement->path);
    }
  }
}

void WatchStream::Announced(const Path& path) {
  const std::string key = path.str();
  {
    absl::MutexLock lock(&mu_);
    // A finished stream follows nothing new; it only keeps the origin's
    // queue of announcements toward it empty until it is done.
    if (finished_) return;
    Queued(queue_.Announce(key));
    WriteLocked();
  }
  Subscriptions subscribed;
  for (Tier tier : kTiers) {
    for (Role role : kRoles) {
      std::string name(TrackName(tier, role));
      absl::StatusOr<std::unique_ptr<TrackConsumer>> consumer = origin_->Subscribe(path, name);
      // The broadcast may already have ended; its end follows.
      if (!consumer.ok()) continue;
      auto subscription = std::make_unique<Subscription>(Subscription{key, std::move(name), *std::move(consumer)});
      Subscription* raw = subscription.get();
      raw->consumer->SetNotify(link_.Bind([raw](WatchStream& stream) { stream.OnGroups(raw); }));
      subscribed.push_back(std::move(subscription));
    }
  }
  absl::MutexLock lock(&mu_);
  Subscriptions& subscriptions = subscriptions_[key];
  for (auto& subscription : subscribed) {
    // Groups that came before the subscription was listed here (from the
    // latest at subscription time on) found nothing to notify.
    DrainLocked(*subscription);
    subscriptions.push_back(std::move(subscription));
  }
  WriteLocked();
}

void WatchStream::Ended(const Path& path) {
  // Destroyed on return, outside mu_: a consumer's destructor waits for its
  // running notification, which may be waiting for mu_.
  Subscriptions ended;
  absl::MutexLock lock(&mu_);
  auto it = subscriptions_.find(path.str());
  if (it != subscriptions_.end()) {
    // Its final groups go in before the end.
    for (auto& subscription : it->second) DrainLocked(*subscription);
    ended = std::move(it->second);
    subscriptions_.erase(it);
  }
  if (!finished_) Queued(queue_.End(path.str()));
  WriteLocked();
}

void WatchStream::OnGroups(Subscription* subscription) {
  absl::MutexLock lock(&mu_);
  // Only listed subscriptions are drained here: one not listed yet is
  // drained once it is, and one whose broadcast ended was drained then.
  auto it = subscriptions_.find(subscription->path);
  if (it == subscriptions_.end()) return;
  for (const auto& listed : it->second) {
    if (listed.get() != subscription) continue;
    DrainLocked(*subscription);
    WriteLocked();
    return;
  }
}

void WatchStream::DrainLocked(Subscription& subscription) {
  while (std::optional<Group> group = subscription.consumer->Next()) {
    if (!finished_) Queued(queue_.Frame(subscription.path, subscription.track, *std::move(group)));
  }
}

void WatchStream::Queued(const absl::Status& status) {
  if (status.ok() || finished_) return;
  MOQSTATS_LOG(INFO) << "ending a Watch stream: " << status.message();
  FinishLocked(ToGrpcStatus(status));
}

void WatchStream::WriteLocked() {
  if (writing_ || finished_) return;
  std::optional<WatchQueue::Event> event = queue_.Pop();
  if (!event) return;
  writing_event_.Clear();
  switch (event->kind) {
    case WatchQueue::Event::Kind::kAnnounce:
    case WatchQueue::Event::Kind::kEnd:
      writing_event_.mutable_announce()->set_path(std::move(event->path));
      writing_event_.mutable_announce()->set_active(event->kind == WatchQueue::Event::Kind::kAnnounce);
      break;
    case WatchQueue::Event::Kind::kFrame: {
      pb::Frame* frame = writing_event_.mutable_frame();
      frame->set_path(std::move(event->path));
      frame->set_track(std::move(event->track));
      frame->set_sequence(event->group.sequence);
      if (event->group.frame) frame->set_payload(*event->group.frame);
      break;
    }
  }
  writing_ = true;
  StartWrite(&writing_event_);
}

void WatchStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the watcher failed"));
    return;
  }
  WriteLocked();
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
  absl::flat_hash_map<std::string, Subscriptions> subscriptions;
  {
    absl::MutexLock announce_lock(&announce_mu_);
    announcements = std::move(announcements_);
  }
  {
    absl::MutexLock lock(&mu_);
    subscriptions = std::move(subscriptions_);
  }
  // Destroying the consumers (outside mu_) waits for any notification still
  // running; none starts after.
  announcements.reset();
  subscriptions.clear();
  delete this;
}

}  // namespace moq_stats::server
