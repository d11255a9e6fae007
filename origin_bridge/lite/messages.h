#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_MESSAGES_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_MESSAGES_H_

// The moq-lite control and data messages (lite-03, lite-04, lite-05) as plain
// structs, each with a framer (Encode) and a stateless parser (Decode).
//
// Encode appends the message's wire form (length prefix included; the type
// varint too for the typed subscribe responses) to `out`, and fails only on
// values the wire cannot carry or a message the version does not have.
//
// Decode reads one message from the front of `bytes` and reports how many
// bytes it took; it returns kNeedMore while the message is incomplete and an
// error code and reason when the bytes are malformed. Decode never keeps a
// pointer into `bytes`. The layouts follow rs/moq-net/src/lite/ of
// moq-dev/moq (lite-05 as implemented, not the lite-06 draft).
//
// Stream type varints (ControlStreamType, DataStreamType) are not part of the
// messages: the caller reads them once at the start of a stream.
//
// Path fields (prefix, suffix, broadcast) are normalized (as moq_stats::Path normalises)
// when encoded and decoded; more than 32 segments is an error. Track names
// are plain UTF-8 strings.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite {

enum class Version : uint64_t {
  kLite03 = 0xff0dad03,
  kLite04 = 0xff0dad04,
  kLite05 = 0xff0dad05,
};

// "moq-lite-03" ... as negotiated through ALPN / WebSocket subprotocol.
std::string_view VersionAlpn(Version version);
// The version for a wire code, if it is one of ours.
std::optional<Version> VersionFromCode(uint64_t code);

// Bidirectional streams, opened by the subscriber (relay). Fetch and Track
// exist from lite-05, Goaway from lite-04.
enum class ControlStreamType : uint64_t {
  kAnnounce = 1,
  kSubscribe = 2,
  kFetch = 3,
  kProbe = 4,
  kGoaway = 5,
  kTrack = 6,
};

// Unidirectional streams. Setup exists from lite-05.
enum class DataStreamType : uint64_t {
  kGroup = 0,
  kSetup = 1,
};

enum class DecodeStatus { kOk, kNeedMore, kError };

template <typename T>
struct DecodeResult {
  DecodeStatus status = DecodeStatus::kNeedMore;
  T value{};                            // Valid when status == kOk.
  size_t consumed = 0;                  // Bytes of the input the message took (kOk only).
  ErrorCode code = ErrorCode::kDecode;  // When status == kError.
  std::string reason;                   // When status == kError.

  bool ok() const { return status == DecodeStatus::kOk; }
  bool need_more() const { return status == DecodeStatus::kNeedMore; }
  bool error() const { return status == DecodeStatus::kError; }
};

// SETUP (lite-05 only): the sole message of each side's Setup uni stream. A
// list of (id, raw value) parameters; ids must be unique, at most 64.
inline constexpr uint64_t kSetupParameterProbe = 1;
inline constexpr uint64_t kSetupParameterPath = 2;
inline constexpr uint64_t kSetupParameterRole = 3;  // 1 publisher, 2 subscriber
inline constexpr uint64_t kSetupParameterCost = 4;
inline constexpr uint64_t kSetupParameterOrigin = 5;
inline constexpr uint64_t kSetupRolePublisher = 1;
inline constexpr uint64_t kSetupRoleSubscriber = 2;
inline constexpr size_t kMaxSetupParameters = 64;

struct SetupParameter {
  uint64_t id = 0;
  std::string value;
  bool operator==(const SetupParameter& o) const { return id == o.id && value == o.value; }
};

struct Setup {
  std::vector<SetupParameter> parameters;  // Wire order.

  // A parameter whose value is one varint (Probe, Role, Cost, Origin);
  // `value` must be <= kMaxVarint.
  static SetupParameter VarintParameter(uint64_t id, uint64_t value);
  // The varint value of parameter `id`; nullopt if absent or not exactly one varint.
  std::optional<uint64_t> VarintValue(uint64_t id) const;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Setup> Decode(Version version, std::string_view bytes);
  bool operator==(const Setup& o) const { return parameters == o.parameters; }
};

// ANNOUNCE_REQUEST: first message of an Announce stream, from the subscriber.
struct AnnounceRequest {
  std::string prefix;
  uint64_t exclude_hop = 0;  // On the wire for lite-04/05 only.

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<AnnounceRequest> Decode(Version version, std::string_view bytes);
  bool operator==(const AnnounceRequest& o) const { return prefix == o.prefix && exclude_hop == o.exclude_hop; }
};

// ANNOUNCE_OK (lite-05 only): the publisher's first reply on an Announce
// stream: its origin (hop) id and how many ANNOUNCE(active) follow as the
// initial set.
struct AnnounceOk {
  uint64_t hop_id = 0;
  uint64_t active_count = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<AnnounceOk> Decode(Version version, std::string_view bytes);
  bool operator==(const AnnounceOk& o) const { return hop_id == o.hop_id && active_count == o.active_count; }
};

enum class AnnounceStatus : uint8_t { kEnded = 0, kActive = 1 };
inline constexpr size_t kMaxHops = 32;

// ANNOUNCE: a broadcast under the requested prefix became active or ended.
// Hops: lite-03 carries only their count (decoded as that many zero ids);
// lite-04 the ids including the sender's own; lite-05 the ids without the
// sender's own (a leaf publisher sends none). On lite-05 the draft's explicit
// restart status (2) decodes as kActive; lite-03/04 reject it.
struct Announce {
  AnnounceStatus status = AnnounceStatus::kActive;
  std::string suffix;
  std::vector<uint64_t> hops;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Announce> Decode(Version version, std::string_view bytes);
  bool operator==(const Announce& o) const { return status == o.status && suffix == o.suffix && hops == o.hops; }
};

// TRACK (lite-05 only): first message of a Track stream.
struct Track {
  std::string broadcast;
  std::string track;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Track> Decode(Version version, std::string_view bytes);
  bool operator==(const Track& o) const { return broadcast == o.broadcast && track == o.track; }
};

// TRACK_INFO (lite-05 only): the publisher's answer to TRACK, then FIN.
struct TrackInfo {
  uint8_t priority = 0;
  bool ordered = false;  // Raw u8 on the wire; nonzero decodes true.
  uint64_t max_latency_ms = 0;
  uint64_t timescale = 1000;  // Units per second; never 0.

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<TrackInfo> Decode(Version version, std::string_view bytes);
  bool operator==(const TrackInfo& o) const {
    return priority == o.priority && ordered == o.ordered && max_latency_ms == o.max_latency_ms &&
           timescale == o.timescale;
  }
};

// SUBSCRIBE: first message of a Subscribe stream. Optional groups travel as
// 0 = absent, else group + 1.
struct Subscribe {
  uint64_t id = 0;
  std::string broadcast;
  std::string track;
  uint8_t priority = 0;
  bool ordered = false;
  uint64_t max_latency_ms = 0;
  std::optional<uint64_t> start_group;
  std::optional<uint64_t> end_group;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Subscribe> Decode(Version version, std::string_view bytes);
  bool operator==(const Subscribe& o) const {
    return id == o.id && broadcast == o.broadcast && track == o.track && priority == o.priority &&
           ordered == o.ordered && max_latency_ms == o.max_latency_ms && start_group == o.start_group &&
           end_group == o.end_group;
  }
};

// SUBSCRIBE_OK (lite-03/04 only): typed response 0 on the Subscribe stream.
struct SubscribeOk {
  uint8_t priority = 0;
  bool ordered = false;
  uint64_t max_latency_ms = 0;
  std::optional<uint64_t> start_group;
  std::optional<uint64_t> end_group;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<SubscribeOk> Decode(Version version, std::string_view bytes);
  bool operator==(const SubscribeOk& o) const {
    return priority == o.priority && ordered == o.ordered && max_latency_ms == o.max_latency_ms &&
           start_group == o.start_group && end_group == o.end_group;
  }
};

// SUBSCRIBE_START (lite-05 only): typed response 0, the first group served.
struct SubscribeStart {
  uint64_t group = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<SubscribeStart> Decode(Version version, std::string_view bytes);
  bool operator==(const SubscribeStart& o) const { return group == o.group; }
};

// SUBSCRIBE_END (lite-05 only): typed response 1, the exclusive end group.
struct SubscribeEnd {
  uint64_t group = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<SubscribeEnd> Decode(Version version, std::string_view bytes);
  bool operator==(const SubscribeEnd& o) const { return group == o.group; }
};

// SUBSCRIBE_DROP: groups [start, end] will not be delivered, with an error
// code. Typed response 1 on lite-03/04, 2 on lite-05.
struct SubscribeDrop {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t error = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<SubscribeDrop> Decode(Version version, std::string_view bytes);
  bool operator==(const SubscribeDrop& o) const { return start == o.start && end == o.end && error == o.error; }
};

// Any typed response on the Subscribe stream, for the subscriber side.
using SubscribeResponse = std::variant<SubscribeOk, SubscribeStart, SubscribeEnd, SubscribeDrop>;
DecodeResult<SubscribeResponse> DecodeSubscribeResponse(Version version, std::string_view bytes);

// SUBSCRIBE_UPDATE: later untyped messages from the subscriber on a Subscribe
// stream.
struct SubscribeUpdate {
  uint8_t priority = 0;
  bool ordered = false;
  uint64_t max_latency_ms = 0;
  std::optional<uint64_t> start_group;
  std::optional<uint64_t> end_group;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<SubscribeUpdate> Decode(Version version, std::string_view bytes);
  bool operator==(const SubscribeUpdate& o) const {
    return priority == o.priority && ordered == o.ordered && max_latency_ms == o.max_latency_ms &&
           start_group == o.start_group && end_group == o.end_group;
  }
};

// GROUP: the header of a Group uni stream, after its type varint.
struct GroupHeader {
  uint64_t subscribe_id = 0;
  uint64_t sequence = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<GroupHeader> Decode(Version version, std::string_view bytes);
  bool operator==(const GroupHeader& o) const { return subscribe_id == o.subscribe_id && sequence == o.sequence; }
};

// A frame on a Group (or Fetch) stream; not length-prefixed as a message.
// lite-05: [zigzag timestamp delta][size][payload], the delta against the
// previous frame of the stream (0 before the first), in the track's
// timescale. lite-03/04: [size][payload] (timestamp_delta is not sent and
// decodes as 0).
struct Frame {
  int64_t timestamp_delta = 0;
  std::string payload;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Frame> Decode(Version version, std::string_view bytes);
  bool operator==(const Frame& o) const { return timestamp_delta == o.timestamp_delta && payload == o.payload; }
};

// FETCH: first message of a Fetch stream (the stream exists on lite-05 only;
// the codec accepts lite-03/04 too).
struct Fetch {
  std::string broadcast;
  std::string track;
  uint8_t priority = 0;
  uint64_t group = 0;

  absl::Status Encode(Version version, std::string* out) const;
  static DecodeResult<Fetch> Decode(Version version, std::string_view bytes);
  bool operator==(const Fetch& o) const {
    return broadcast == o.broadcast && track == o.track && priority == o.priority && group == o.group;
  }
};

}  // namespace moq_stats::lite

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_MESSAGES_H_
