#ifndef MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_
#define MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin/origin.h"
#include "server/grpc/stream_set.h"
#include "server/grpc/watch_queue.h"

namespace moq_stats::server {

// The transport of one Watch RPC: follows the origin's announcements under a
// prefix, subscribes to the four tracks of every stats broadcast, and writes
// an Announce event per change and a Frame event per group, in order: a
// broadcast's final frames come before its end.
//
// What waits to be written goes through a WatchQueue, coalesced to the latest
// state of each broadcast: one write is in flight at a time, and a watcher
// that reads slowly (or not at all) skips to newer frames instead of growing
// memory. When even the coalesced state outgrows the queue's limits (more
// broadcasts churn than it may hold), the stream ends with
// RESOURCE_EXHAUSTED. Each origin notification costs the work of its own
// track or announcements, never a pass over every subscription.
//
// Created by the service per call; frees itself in OnDone.
class WatchStream final : public grpc::ServerWriteReactor<moq::stats::v1::WatchEvent> {
 public:
  // `origin` and `streams` must outlive the stream.
  WatchStream(Origin* origin, const Path& prefix, StreamSet* streams, WatchQueueLimits limits = {});

  void End(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // One track of one broadcast. Owned through unique_ptr so that its
  // notification can name it.
  struct Subscription {
    std::string path;
    std::string track;
    std::unique_ptr<TrackConsumer> consumer;
  };
  using Subscriptions = std::vector<std::unique_ptr<Subscription>>;

  // The origin's notifications: announcements under the prefix, groups of
  // one subscribed track.
  void OnAnnouncements();
  void OnGroups(Subscription* subscription);

  // A broadcast announced: queues its announcement and subscribes to its
  // tracks.
  void Announced(const Path& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(announce_mu_);
  // A broadcast ended: queues its last groups and its end; its subscriptions
  // are destroyed on return.
  void Ended(const Path& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(announce_mu_);
  // Moves the subscription's waiting groups into the queue (or drops them
  // once the stream finished).
  void DrainLocked(Subscription& subscription) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Queued(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Origin* const origin_;
  StreamSet* const streams_;
  // For the origin's notifications and the StreamSet's ender, which may run
  // after this stream is gone.
  const StreamLink<WatchStream> link_;

  // Lock order: announce_mu_, then a consumer's notification (SetNotify or
  // destruction), then mu_. A consumer is never subscribed or destroyed
  // under mu_: its notification takes mu_ while the origin holds the
  // consumer's notification lock.
  //
  // Held through the handling of each announcement, so that a broadcast's
  // announcement, subscriptions and end are handled in order, whichever
  // thread notifies.
  absl::Mutex announce_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<AnnouncementConsumer> announcements_ ABSL_GUARDED_BY(announce_mu_);

  absl::Mutex mu_;
  // By broadcast path.
  absl::flat_hash_map<std::string, Subscriptions> subscriptions_ ABSL_GUARDED_BY(mu_);
  WatchQueue queue_ ABSL_GUARDED_BY(mu_);
  moq::stats::v1::WatchEvent writing_event_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_WATCH_STREAM_H_
