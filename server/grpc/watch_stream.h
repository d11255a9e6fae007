#ifndef MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_
#define MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin/origin.h"
#include "server/grpc/stream_set.h"

namespace moq_stats::server {

// The transport of one Watch RPC: follows the origin's announcements under a
// prefix, subscribes to the four tracks of every stats broadcast, and writes
// an Announce event per change and a Frame event per group, in order: a
// broadcast's final frames come before its end. Frames are taken from the
// origin only while few events wait to be written, so a slow watcher skips to
// newer frames (the origin's latest-wins delivery) rather than growing
// memory.
//
// Created by the service per call; frees itself in OnDone.
class WatchStream final : public grpc::ServerWriteReactor<moq::stats::v1::WatchEvent> {
 public:
  // `origin` and `streams` must outlive the stream.
  WatchStream(Origin* origin, const Path& prefix, StreamSet* streams);

  void End(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  struct Track {
    Path path;
    std::string name;
    std::unique_ptr<TrackConsumer> consumer;
  };

  // Moves what the origin has into events_ and starts a write if none is in
  // flight. Called by origin notifications and after each write.
  void Pump();
  void CollectLocked(std::vector<std::unique_ptr<TrackConsumer>>* dead) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrainTrackLocked(Track& track) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::function<void()> Notifier() const;

  Origin* const origin_;
  StreamSet* const streams_;
  // For the origin's notifications and the StreamSet's ender, which may run
  // after this stream is gone.
  const StreamLink<WatchStream> link_;

  absl::Mutex mu_;
  std::unique_ptr<AnnouncementConsumer> announcements_ ABSL_GUARDED_BY(mu_);
  std::vector<Track> tracks_ ABSL_GUARDED_BY(mu_);
  std::deque<moq::stats::v1::WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  moq::stats::v1::WatchEvent writing_event_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_
