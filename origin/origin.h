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

// One group of a track. Every group the stats publishers write holds exactly
// one frame. The frame bytes are shared between every consumer of the group.
struct Group {
  uint64_t sequence = 0;
  std::shared_ptr<const std::string> frame;
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
  TrackProducer(const TrackProducer&) = delete;
  TrackProducer& operator=(const TrackProducer&) = delete;

  const std::string& name() const;

  // Writes `frame` as a new group of one frame and returns its sequence
  // (0, 1, 2, ... per track).
  uint64_t WriteFrame(std::string frame);

  // The latest group written, if any.
  std::optional<Group> latest() const;

 private:
  friend class BroadcastProducer;
  // Only its BroadcastProducer destroys it (through unique_ptr).
  friend struct std::default_delete<TrackProducer>;
  explicit TrackProducer(std::shared_ptr<internal::TrackState> state);
  ~TrackProducer();
  std::shared_ptr<internal::TrackState> state_;
};

// Reads the groups of one track: the latest group at subscription time (if
// any), then every group written after, in order. A consumer that falls more
// than kMaxPending groups behind skips the oldest (moq's latest-wins
// delivery) and counts them in dropped().
//
// Safe for concurrent access from multiple threads.
class TrackConsumer {
 public:
  static constexpr size_t kMaxPending = 64;

  ~TrackConsumer();
  TrackConsumer(const TrackConsumer&) = delete;
  TrackConsumer& operator=(const TrackConsumer&) = delete;

  // The next group, or nullopt when none is waiting.
  std::optional<Group> Next();

  // True once the broadcast ended and every group was read.
  bool ended() const;

  // Groups skipped because this consumer fell behind.
  uint64_t dropped() const;

  // `notify` is called when a group arrives or the track ends, on the
  // writer's thread with no origin lock held. It must not block; it may call
  // Next() but not SetNotify(). Replaces any earlier callback; nullptr
  // clears it. Once SetNotify returns, the old callback is not running and
  // won't run again, so its captures may be destroyed. Groups queued before
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
