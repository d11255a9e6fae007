#ifndef MOQ_STATS_SERVER_GRPC_WATCH_QUEUE_H_
#define MOQ_STATS_SERVER_GRPC_WATCH_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "origin/origin.h"

namespace moq_stats::server {

struct WatchQueueLimits {
  // Broadcasts that ended and whose end the watcher has not been sent yet.
  size_t max_ended = 4096;
  // Bytes held: broadcast paths, track names and frame payloads.
  size_t max_bytes = 64 << 20;
};

// What one Watch stream has still to write, coalesced to the latest state of
// each broadcast, so that a watcher that reads slowly (or not at all) costs a
// bounded amount of memory whatever the publishers do. Sans-IO: the stream
// feeds it the origin's announcements and groups and pops the events to write.
//
// Per broadcast path it holds at most:
//  - for the run the watcher was told of (its announcement was popped): the
//    latest unsent frame of each track, then its end once it ended;
//  - for a later run the watcher was not told of yet: its announcement, the
//    latest frame of each track, and its end once it ended. A newer run
//    replaces it whole (the watcher never heard of it).
// A newer frame of a track replaces the unsent one: a frame carries whole
// counts, so skipping one loses resolution in time, never a count. A popped
// broadcast's events come out in order (announcement, frames, end), so the
// final frames of a run always precede its end.
//
// Live broadcasts are bounded by the origin, and their latest frames are
// shared with it. What the watcher's lag alone makes grow is the ends not
// yet written (broadcasts that churn) and the bytes held: past either limit
// the queue overflows, keeps nothing, and every later call returns
// RESOURCE_EXHAUSTED; the stream then ends with that status. A single frame
// larger than max_bytes (a node broadcast with a few hundred thousand live
// paths) overflows it at once, with a status naming the frame's size, path
// and track rather than the watcher's lag: no reader could ever take it.
//
// Thread-compatible: its stream calls it under the stream's lock.
class WatchQueue {
 public:
  struct Event {
    enum class Kind { kAnnounce, kFrame, kEnd };
    Kind kind = Kind::kAnnounce;
    std::string path;   // the broadcast's path
    std::string track;  // kFrame
    Group group;        // kFrame
  };

  explicit WatchQueue(WatchQueueLimits limits = {}) : limits_(limits) {}
  WatchQueue(const WatchQueue&) = delete;
  WatchQueue& operator=(const WatchQueue&) = delete;

  // The origin's events, in its order for each broadcast: an announcement,
  // groups of its tracks, its end. Each returns status().
  absl::Status Announce(const std::string& path);
  absl::Status Frame(const std::string& path, const std::string& track, Group group);
  absl::Status End(const std::string& path);

  // The next event to write, or nullopt when nothing waits (or after an
  // overflow).
  std::optional<Event> Pop();

  // OK, or RESOURCE_EXHAUSTED once the queue overflowed.
  const absl::Status& status() const { return status_; }

  // Broadcasts with an event waiting.
  size_t pending() const { return dirty_.size(); }
  // Ends waiting (see WatchQueueLimits::max_ended).
  size_t ended() const { return ended_; }
  size_t bytes() const { return bytes_; }
  // Frames and runs replaced by newer ones before they were written.
  uint64_t coalesced() const { return coalesced_; }

 private:
  // The unsent part of one run of a broadcast.
  struct Run {
    std::vector<std::pair<std::string, Group>> frames;  // latest per track, first-come order
    bool ended = false;
  };
  struct Entry {
    std::string path;
    bool told = false;        // the watcher was sent the announcement and not the end
    Run told_run;             // meaningful while told
    std::optional<Run> next;  // a run the watcher was not told of
    bool dirty = false;       // in dirty_
  };

  // The run new groups and the end belong to: the latest one.
  Run* LatestRun(Entry& entry);
  void MarkDirty(Entry& entry);
  bool HasEvent(const Entry& entry) const;
  std::optional<Event> TakeEvent(Entry& entry);
  void DropRun(Run& run);
  void Forget(Entry& entry);
  absl::Status CheckLimits();
  // Keeps nothing from now on; every later call returns RESOURCE_EXHAUSTED
  // with `why`.
  absl::Status Overflow(std::string_view why);
  static size_t FrameBytes(const std::string& track, const Group& group);

  const WatchQueueLimits limits_;
  absl::Status status_;
  // Every broadcast the watcher was told of, and every one with an event
  // waiting; node-based, so dirty_ may point into it.
  absl::node_hash_map<std::string, Entry> entries_;
  std::deque<Entry*> dirty_;  // broadcasts with an event waiting, oldest first
  size_t ended_ = 0;
  size_t bytes_ = 0;
  uint64_t coalesced_ = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_WATCH_QUEUE_H_
