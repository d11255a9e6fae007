#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SUBSCRIPTION_SERVER_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SUBSCRIPTION_SERVER_H_

// SubscriptionServer serves a PublisherSession's Subscribe streams. What the
// peer sees (the answer, the range of groups, the end of a subscription,
// groups held for credit) is described in publisher_session.h. Here: one
// origin TrackConsumer per stream, read frame by frame; at most one open
// Group stream per subscription (the group that may still grow); groups
// above the end group parked in the subscription (at most kMaxParked); the
// frames of at most one group held per subscription, and the subscriptions
// holding some queued in turn order, which Flush() serves one group per
// subscription per turn.
//
// Used on the session's thread only.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "origin/origin.h"
#include "origin_bridge/lite/internal/session_context.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite::internal {

class SubscriptionServer {
 public:
  static constexpr size_t kMaxParked = 64;

  // `ctx` is borrowed and must outlive this.
  explicit SubscriptionServer(SessionContext* ctx) : ctx_(ctx) {}
  ~SubscriptionServer() { Clear(); }
  SubscriptionServer(const SubscriptionServer&) = delete;
  SubscriptionServer& operator=(const SubscriptionServer&) = delete;

  // Serves `msg`, read from the peer's bidirectional stream `stream`.
  // Returns the code to reset the stream with when refused.
  std::optional<ErrorCode> Start(uint64_t stream, const Subscribe& msg);

  // Applies a SUBSCRIBE_UPDATE read from `stream`.
  void Update(uint64_t stream, const SubscribeUpdate& msg);

  // Sends what the consumer of `stream` holds. False if `stream` is not a
  // subscription served here (any more).
  bool Drain(uint64_t stream);

  bool Has(uint64_t stream) const { return entries_.contains(stream); }

  // Forgets `stream` (unsubscribed or gone); writes nothing.
  void Stop(uint64_t stream);

  // Sends held groups while the mux takes them.
  void Flush();

  // Forgets every subscription.
  void Clear();

  size_t size() const { return entries_.size(); }

 private:
  // The Group stream of the group being sent, kept open while the group may
  // still grow.
  struct OpenGroup {
    uint64_t sequence = 0;
    uint64_t stream = 0;
    uint32_t next_index = 0;      // The index of the frame it takes next.
    uint64_t last_timestamp = 0;  // Of its last frame (lite-05 deltas).
  };

  struct Entry {
    uint64_t stream = 0;
    uint64_t id = 0;  // The peer's subscribe id, echoed in GROUP headers.
    std::unique_ptr<TrackConsumer> consumer;
    std::optional<uint64_t> start;  // Groups below are not sent.
    std::optional<uint64_t> end;    // Groups above are parked.
    bool started = false;           // lite-05 SUBSCRIBE_START written.
    bool ending = false;            // The track ended.
    // Everything went out: SUBSCRIBE_END and FIN wait for the next Poll, so
    // they travel after the last group's bytes (in a later record).
    bool finish_next_poll = false;
    std::optional<uint64_t> highest;  // Highest sequence read.
    std::optional<OpenGroup> open;
    // The consumer's dropped() when last looked at: when it moves while a
    // group is open, the rest of that group may be among what it skipped.
    uint64_t dropped_seen = 0;
    // Frames waiting to go out, in order, all of one group: from its frame
    // 0, or the next frames of `open`. At most a group's frames.
    std::deque<Group> held;
    bool waiting = false;  // In waiting_.
    // Frames of groups above the end group, by sequence, each from frame 0.
    std::map<uint64_t, std::vector<Group>> parked;
  };

  void Offer(Entry& e, Group frame);
  void Deliver(Entry& e, Group frame);
  // Sends the held frames. False when a new Group stream is needed and the
  // mux has no stream credit (the frames stay held).
  bool SendHeld(Entry& e);
  // Ends the open Group stream: FIN when the group went out whole, reset
  // (Cancel) when `truncated`.
  void FinishOpen(Entry& e, bool truncated);
  // Whether `e`'s held frames may go out now (`new_stream`: they need a new
  // Group stream, so stream credit too).
  bool CanSendNow(bool new_stream) const;
  // Finishes the subscription when its track ended and nothing is held:
  // the first call schedules the finish for the next Poll (a subscriber
  // that closes a track on the subscribe stream's FIN, as @moq/net does,
  // would drop a group whose bytes arrived with it); the next writes
  // lite-05 SUBSCRIBE_END and FIN. May destroy `e`.
  void MaybeFinish(Entry& e);
  // Forgets `stream`'s subscription; `cancel` resets its open Group stream.
  void Erase(uint64_t stream, bool cancel);
  void UpdateGauge();

  SessionContext* const ctx_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> entries_;
  // Streams whose subscription holds a group, oldest turn first.
  std::deque<uint64_t> waiting_;
};

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_SUBSCRIPTION_SERVER_H_
