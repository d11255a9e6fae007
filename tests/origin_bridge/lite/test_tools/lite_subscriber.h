#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_LITE_SUBSCRIBER_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_LITE_SUBSCRIBER_H_

// LiteSubscriber: the subscriber side of a moq-lite session (lite-03, -04,
// -05), sans-IO over any StreamMux, for tests and benchmarks that need a
// peer for a PublisherSession: over a FakeStreamMux pair (Pump) or over a
// real QMux connection.
//
// It sends (each request on its own bidirectional stream, as moq-lite does):
// ANNOUNCE_REQUEST, SUBSCRIBE (+ SUBSCRIBE_UPDATE, FIN to unsubscribe),
// TRACK and FETCH (lite-05), and its own SETUP on lite-05 (Start). It parses
// what comes back: ANNOUNCE_OK / ANNOUNCE, SUBSCRIBE_OK / START / END /
// DROP, TRACK_INFO, fetched frames, the peer's SETUP, and every Group
// stream, and exposes them as plain records. Bytes that break the protocol
// close the connection with the codec's error code (mux->Close); error()
// says why.
//
// Wiring: attach it as the StreamEvents of `mux` (it is one) before any
// event can arrive. Not thread-safe; use it on the thread that drives the
// mux.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/stream_mux.h"

namespace moq_stats::lite::test {

class LiteSubscriber : public StreamEvents {
 public:
  struct Options {
    lite::Version version = lite::Version::kLite05;
    uint64_t origin_id = 0;             // SETUP Origin parameter when non-zero.
    size_t max_message_size = 1 << 20;  // Control messages from the peer.
    size_t max_frame_size = 16 << 20;   // Frame payloads from the peer.
  };

  // One ANNOUNCE_REQUEST and what came back on its stream.
  struct AnnounceStream {
    uint64_t stream = 0;
    std::string prefix;
    std::optional<lite::AnnounceOk> ok;    // lite-05.
    std::vector<lite::Announce> messages;  // In arrival order.
    std::set<std::string> active;          // Suffixes active now.
    bool finished = false;                 // Peer FIN.
    std::optional<uint64_t> reset_code;    // Peer RESET_STREAM.
  };

  // One SUBSCRIBE.
  struct Subscription {
    uint64_t id = 0;
    uint64_t stream = 0;
    std::string broadcast;
    std::string track;
    std::vector<lite::SubscribeResponse> responses;
    bool finished = false;  // Peer FIN on the stream.
    std::optional<uint64_t> reset_code;
  };

  // One Group stream from the peer.
  struct ReceivedGroup {
    uint64_t stream = 0;
    uint64_t subscribe_id = 0;
    uint64_t sequence = 0;
    std::vector<lite::Frame> frames;
    bool complete = false;  // FIN seen.
    std::optional<uint64_t> reset_code;
  };

  // One TRACK (lite-05).
  struct TrackRequest {
    uint64_t stream = 0;
    std::optional<lite::TrackInfo> info;
    bool finished = false;
    std::optional<uint64_t> reset_code;
  };

  // One FETCH (lite-05).
  struct FetchRequest {
    uint64_t stream = 0;
    std::vector<lite::Frame> frames;
    bool finished = false;
    std::optional<uint64_t> reset_code;
  };

  struct SubscribeParams {
    uint8_t priority = 0;
    std::optional<uint64_t> start_group;
    std::optional<uint64_t> end_group;
  };

  // `mux` is borrowed and must outlive the subscriber.
  LiteSubscriber(Options options, StreamMux* mux);
  ~LiteSubscriber() override;
  LiteSubscriber(const LiteSubscriber&) = delete;
  LiteSubscriber& operator=(const LiteSubscriber&) = delete;

  // lite-05: opens a uni stream with our SETUP and FIN. No-op before 05.
  absl::Status Start();

  // Returns the stream id, the key of announces().
  absl::StatusOr<uint64_t> RequestAnnounces(std::string_view prefix, uint64_t exclude_hop = 0);
  // Returns the subscribe id (0, 1, 2, ...), the key of subscription().
  absl::StatusOr<uint64_t> Subscribe(std::string_view broadcast, std::string_view track, const SubscribeParams& params);
  absl::StatusOr<uint64_t> Subscribe(std::string_view broadcast, std::string_view track) {
    return Subscribe(broadcast, track, SubscribeParams());
  }
  absl::Status UpdateSubscription(uint64_t subscribe_id, const lite::SubscribeUpdate& update);
  // FIN on the subscribe stream.
  absl::Status Unsubscribe(uint64_t subscribe_id);
  // FIN on an announce stream.
  absl::Status StopAnnounces(uint64_t stream);
  // Returns the stream id, the key of track_request().
  absl::StatusOr<uint64_t> RequestTrackInfo(std::string_view broadcast, std::string_view track);
  // Returns the stream id, the key of fetch().
  absl::StatusOr<uint64_t> Fetch(std::string_view broadcast, std::string_view track, uint64_t group,
                                 uint8_t priority = 0);

  const std::optional<lite::Setup>& peer_setup() const { return peer_setup_; }
  const AnnounceStream* announces(uint64_t stream) const;
  const Subscription* subscription(uint64_t subscribe_id) const;
  const TrackRequest* track_request(uint64_t stream) const;
  const FetchRequest* fetch(uint64_t stream) const;
  // Every Group stream, in the order the peer opened them.
  const std::vector<ReceivedGroup>& groups() const { return groups_; }
  // "sequence:payload" of each complete group of a subscription, in
  // arrival order (one frame per group joined with '|').
  std::vector<std::string> Received(uint64_t subscribe_id) const;

  bool closed() const { return close_info_.has_value(); }
  const std::optional<CloseInfo>& close_info() const { return close_info_; }
  // The protocol error that made us close, if any.
  const std::string& error() const { return error_; }

  // StreamEvents.
  void OnStreamOpened(uint64_t id) override;
  void OnStreamData(uint64_t id, std::string_view data, bool fin) override;
  void OnStreamReset(uint64_t id, uint64_t code) override;
  void OnStopSending(uint64_t id, uint64_t code) override;
  void OnStreamCreditAvailable() override {}
  void OnClosed(const CloseInfo& info) override;

 private:
  struct StreamState;

  absl::StatusOr<uint64_t> OpenRequest(lite::ControlStreamType type, const std::string& message);
  void Fail(lite::ErrorCode code, std::string reason);
  void ProcessIncoming(uint64_t id, StreamState& s);
  void ProcessResponse(uint64_t id, StreamState& s);
  // Reads frames from `s` into `frames`; false on a protocol error.
  bool ReadFrames(StreamState& s, std::vector<lite::Frame>* frames);

  Options options_;
  StreamMux* mux_;
  std::map<uint64_t, std::unique_ptr<StreamState>> streams_;
  std::map<uint64_t, AnnounceStream> announces_;
  std::map<uint64_t, Subscription> subscriptions_;     // By subscribe id.
  std::map<uint64_t, uint64_t> subscription_streams_;  // Stream -> id.
  std::map<uint64_t, TrackRequest> tracks_;
  std::map<uint64_t, FetchRequest> fetches_;
  std::vector<ReceivedGroup> groups_;
  std::optional<lite::Setup> peer_setup_;
  uint64_t next_subscribe_id_ = 0;
  std::optional<CloseInfo> close_info_;
  std::string error_;
};

}  // namespace moq_stats::lite::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_LITE_SUBSCRIBER_H_
