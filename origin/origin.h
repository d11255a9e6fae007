#ifndef MOQ_STATS_ORIGIN_ORIGIN_H_
#define MOQ_STATS_ORIGIN_ORIGIN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/path.h"

namespace moq_stats {

namespace internal {
struct OriginState;
struct BroadcastState;
struct TrackState;
struct TrackConsumerState;
struct AnnouncementConsumerState;
}  // namespace internal

// One frame of a track, as consumers receive it: the frame's bytes and its
// place, the group `sequence` and its `index` in that group (0 opens the
// group). A group written with TrackProducer::WriteFrame holds one frame
// (`complete` at once); one opened with StartGroup grows frame by frame
// through AppendFrame and is complete when the next group starts or the
// track ends. The frame bytes are shared between every consumer.
struct Group {
  uint64_t sequence = 0;
  std::shared_ptr<const std::string> frame;
  // The frame's index within its group.
  uint32_t index = 0;
  // True: no frame follows in this group (a single-frame group).
  bool complete = true;
};

// A change in what is published under a followed prefix.
struct Announcement {
  Path path;    // the broadcast's full path
  bool active;  // true: announced; false: unannounced (ended)
};

class BroadcastProducer;
class TrackProducer;
class TrackConsumer;
class AnnouncementConsumer;

// The in-memory origin: the seam between the tick publishers and wherever
// frames go (the gRPC Watch stream, the moq-lite bridge, tests). Shaped like
// moq's origin: broadcasts are published at paths, carry named tracks, and
// each track is a sequence of groups. Consumers follow announcements under a
// prefix and subscribe to tracks, receiving the latest group first and then
// every later one.
//
// Safe for concurrent access from multiple threads without external
// synchronization. Producers and consumers it hands out may outlive it: once
// the origin is gone, destroying a producer unannounces nothing and
// announcement consumers receive nothing more, while tracks keep delivering
// to their subscribers until their producer goes.
class Origin {
 public:
  Origin();
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  // Announces a new broadcast at `path` with the tracks named in `tracks`
  // already created, so a consumer that subscribes when it hears of the
  // broadcast finds them. ALREADY_EXISTS while another broadcast is active
  // at that path; INVALID_ARGUMENT for a track named twice. The broadcast
  // stays announced until the returned producer is destroyed.
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> Publish(const Path& path,
                                                             const std::vector<std::string>& tracks = {});

  // Follows announcements under `prefix` (whole segments; empty = all): first
  // one `active` announcement for each broadcast active now, then every
  // change as it happens.
  std::unique_ptr<AnnouncementConsumer> Announced(const Path& prefix);

  // Subscribes to `track` of the broadcast active at `path`. NOT_FOUND when
  // no such broadcast or track exists.
  absl::StatusOr<std::unique_ptr<TrackConsumer>> Subscribe(const Path& path, std::string_view track);

  // Number of broadcasts announced now.
  size_t broadcast_count() const;

  // Whether a broadcast is announced at `path` now.
  bool has_broadcast(const Path& path) const;

 private:
  std::shared_ptr<internal::OriginState> state_;
};

// Owns one announced broadcast. Destroying it unannounces the broadcast and
// ends every consumer of its tracks. Not copyable: it is the broadcast's one
// owner. Safe to use from any thread, one thread at a time.
class BroadcastProducer {
 public:
  ~BroadcastProducer();
  BroadcastProducer(const BroadcastProducer&) = delete;
  BroadcastProducer& operator=(const BroadcastProducer&) = delete;

  const Path& path() const;

  // Adds a track named `name`. ALREADY_EXISTS when the name is taken. The
  // returned pointer is owned by this producer and valid while it lives.
  absl::StatusOr<TrackProducer*> CreateTrack(std::string_view name);

  // The track named `name`, or null.
  TrackProducer* track(std::string_view name) const;

 private:
  friend class Origin;
  explicit BroadcastProducer(std::shared_ptr<internal::BroadcastState> state);
  std::shared_ptr<internal::BroadcastState> state_;
};

// Writes the groups of one track. Owned by its BroadcastProducer.
// Safe for concurrent access from multiple threads.
class TrackProducer {
 public:
  // Most frames one group may hold.
  static constexpr size_t kMaxGroupFrames = 256;

  TrackProducer(const TrackProducer&) = delete;
  TrackProducer& operator=(const TrackProducer&) = delete;

  const std::string& name() const;

  // Writes `frame` as a new, complete group of one frame and returns its
  // sequence (0, 1, 2, ... per track). Completes an open group.
  uint64_t WriteFrame(std::string frame);
  // The same for a frame shared with its writer, which must not change it
  // after (a large frame the writer builds the next one from).
  uint64_t WriteFrame(std::shared_ptr<const std::string> frame);

  // Writes `frame` as frame 0 of a new group that stays open for
  // AppendFrame, and returns its sequence. Completes an open group.
  uint64_t StartGroup(std::string frame);

  // Appends `frame` to the open group and returns its index in the group.
  // FAILED_PRECONDITION when no group is open (none started, or the latest
  // was written with WriteFrame); RESOURCE_EXHAUSTED when the group already
  // holds kMaxGroupFrames frames. Nothing is written then.
  absl::StatusOr<uint32_t> AppendFrame(std::string frame);

  // The last frame written, if any.
  std::optional<Group> latest() const;

  // Every frame of the latest group, from its frame 0.
  std::vector<Group> latest_group() const;

 private:
  friend class BroadcastProducer;
  // Only its BroadcastProducer destroys it (through unique_ptr).
  friend struct std::default_delete<TrackProducer>;
  explicit TrackProducer(std::shared_ptr<internal::TrackState> state);
  ~TrackProducer();
  std::shared_ptr<internal::TrackState> state_;
};

// Reads the frames of one track: every frame of the latest group at
// subscription time (if any, from its frame 0), then every frame written
// after, in order. A consumer that falls behind (more than kMaxPending
// groups or kMaxPendingFrames frames waiting) skips the oldest waiting
// groups whole (moq's latest-wins delivery) and counts them in dropped():
// what it reads of any group is always that group's first frames, in
// order, with none missing; a group being written is never skipped.
//
// Safe for concurrent access from multiple threads.
class TrackConsumer {
 public:
  static constexpr size_t kMaxPending = 64;
  static constexpr size_t kMaxPendingFrames = 4 * TrackProducer::kMaxGroupFrames;

  ~TrackConsumer();
  TrackConsumer(const TrackConsumer&) = delete;
  TrackConsumer& operator=(const TrackConsumer&) = delete;

  // The next frame, or nullopt when none is waiting.
  std::optional<Group> Next();

  // True once the broadcast ended and every frame was read.
  bool ended() const;

  // Groups skipped (whole, or the rest of one partly read) because this
  // consumer fell behind.
  uint64_t dropped() const;

  // Frames waiting to be read.
  size_t pending() const;

  // `notify` is called when a frame arrives or the track ends, on the
  // writer's thread with no origin lock held. It must not block; it may call
  // Next() but not SetNotify(). Replaces any earlier callback; nullptr
  // clears it. Once SetNotify returns, the old callback is not running and
  // won't run again, so its captures may be destroyed. Frames queued before
  // the callback was set do not call it: drain with Next() after setting.
  // Destroying the consumer also waits for a running callback, so a callback
  // must not destroy its own consumer.
  void SetNotify(std::function<void()> notify);

 private:
  friend class Origin;
  explicit TrackConsumer(std::shared_ptr<internal::TrackConsumerState> state);
  std::shared_ptr<internal::TrackConsumerState> state_;
};

// Reads announcements under a prefix; see Origin::Announced. Never drops an
// announcement. Safe for concurrent access from multiple threads.
class AnnouncementConsumer {
 public:
  ~AnnouncementConsumer();
  AnnouncementConsumer(const AnnouncementConsumer&) = delete;
  AnnouncementConsumer& operator=(const AnnouncementConsumer&) = delete;

  const Path& prefix() const;

  // The next announcement, or nullopt when none is waiting.
  std::optional<Announcement> Next();

  // As TrackConsumer::SetNotify, for announcements.
  void SetNotify(std::function<void()> notify);

 private:
  friend class Origin;
  explicit AnnouncementConsumer(std::shared_ptr<internal::AnnouncementConsumerState> state);
  std::shared_ptr<internal::AnnouncementConsumerState> state_;
};

}  // namespace moq_stats

#endif  // MOQ_STATS_ORIGIN_ORIGIN_H_
