#include "tests/origin_bridge/lite/test_tools/lite_subscriber.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "origin_bridge/lite/internal/stream_reader.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite::test {

using lite::ErrorCode;
using lite::ReadStatus;
using lite::Version;

struct LiteSubscriber::StreamState {
  enum class Kind { kAnnounce, kSubscribe, kTrack, kFetch, kIncoming, kGroup, kSetup, kDone };
  StreamState(Kind k, size_t max) : kind(k), reader(max) {}
  Kind kind;
  lite::internal::StreamReader reader;
  bool fin = false;
  size_t group_index = 0;  // kGroup: index in groups_.
};

LiteSubscriber::LiteSubscriber(Options options, StreamMux* mux) : options_(options), mux_(mux) {}

LiteSubscriber::~LiteSubscriber() = default;

absl::Status LiteSubscriber::Start() {
  if (options_.version != Version::kLite05) return absl::OkStatus();
  absl::StatusOr<uint64_t> id = mux_->OpenStream(false);
  if (!id.ok()) return id.status();
  lite::Setup setup;
  if (options_.origin_id != 0) {
    setup.parameters.push_back(lite::Setup::VarintParameter(lite::kSetupParameterOrigin, options_.origin_id));
  }
  std::string out;
  lite::AppendVarint(static_cast<uint64_t>(lite::DataStreamType::kSetup), &out);
  if (absl::Status s = setup.Encode(options_.version, &out); !s.ok()) return s;
  return mux_->Write(*id, out, true);
}

absl::StatusOr<uint64_t> LiteSubscriber::OpenRequest(lite::ControlStreamType type, const std::string& message) {
  absl::StatusOr<uint64_t> id = mux_->OpenStream(true);
  if (!id.ok()) return id.status();
  std::string out;
  lite::AppendVarint(static_cast<uint64_t>(type), &out);
  out += message;
  if (absl::Status s = mux_->Write(*id, out, false); !s.ok()) return s;
  StreamState::Kind kind = StreamState::Kind::kAnnounce;
  switch (type) {
    case lite::ControlStreamType::kSubscribe:
      kind = StreamState::Kind::kSubscribe;
      break;
    case lite::ControlStreamType::kTrack:
      kind = StreamState::Kind::kTrack;
      break;
    case lite::ControlStreamType::kFetch:
      kind = StreamState::Kind::kFetch;
      break;
    default:
      break;
  }
  streams_[*id] = std::make_unique<StreamState>(kind, options_.max_message_size);
  return *id;
}

absl::StatusOr<uint64_t> LiteSubscriber::RequestAnnounces(std::string_view prefix, uint64_t exclude_hop) {
  lite::AnnounceRequest request;
  request.prefix = std::string(prefix);
  request.exclude_hop = exclude_hop;
  std::string message;
  if (absl::Status s = request.Encode(options_.version, &message); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = OpenRequest(lite::ControlStreamType::kAnnounce, message);
  if (!id.ok()) return id;
  AnnounceStream& a = announces_[*id];
  a.stream = *id;
  a.prefix = request.prefix;
  return id;
}

absl::StatusOr<uint64_t> LiteSubscriber::Subscribe(std::string_view broadcast, std::string_view track,
                                                   const SubscribeParams& params) {
  lite::Subscribe msg;
  msg.id = next_subscribe_id_;
  msg.broadcast = std::string(broadcast);
  msg.track = std::string(track);
  msg.priority = params.priority;
  msg.start_group = params.start_group;
  msg.end_group = params.end_group;
  std::string message;
  if (absl::Status s = msg.Encode(options_.version, &message); !s.ok()) return s;
  absl::StatusOr<uint64_t> stream = OpenRequest(lite::ControlStreamType::kSubscribe, message);
  if (!stream.ok()) return stream.status();
  const uint64_t id = next_subscribe_id_++;
  Subscription& sub = subscriptions_[id];
  sub.id = id;
  sub.stream = *stream;
  sub.broadcast = msg.broadcast;
  sub.track = msg.track;
  subscription_streams_[*stream] = id;
  return id;
}

absl::Status LiteSubscriber::UpdateSubscription(uint64_t subscribe_id, const lite::SubscribeUpdate& update) {
  auto it = subscriptions_.find(subscribe_id);
  if (it == subscriptions_.end()) return absl::NotFoundError("no such subscription");
  std::string out;
  if (absl::Status s = update.Encode(options_.version, &out); !s.ok()) return s;
  return mux_->Write(it->second.stream, out, false);
}

absl::Status LiteSubscriber::Unsubscribe(uint64_t subscribe_id) {
  auto it = subscriptions_.find(subscribe_id);
  if (it == subscriptions_.end()) return absl::NotFoundError("no such subscription");
  return mux_->Write(it->second.stream, {}, true);
}

absl::Status LiteSubscriber::StopAnnounces(uint64_t stream) { return mux_->Write(stream, {}, true); }

absl::StatusOr<uint64_t> LiteSubscriber::RequestTrackInfo(std::string_view broadcast, std::string_view track) {
  lite::Track msg;
  msg.broadcast = std::string(broadcast);
  msg.track = std::string(track);
  std::string message;
  if (absl::Status s = msg.Encode(options_.version, &message); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = OpenRequest(lite::ControlStreamType::kTrack, message);
  if (id.ok()) tracks_[*id].stream = *id;
  return id;
}

absl::StatusOr<uint64_t> LiteSubscriber::Fetch(std::string_view broadcast, std::string_view track, uint64_t group,
                                               uint8_t priority) {
  lite::Fetch msg;
  msg.broadcast = std::string(broadcast);
  msg.track = std::string(track);
  msg.group = group;
  msg.priority = priority;
  std::string message;
  if (absl::Status s = msg.Encode(options_.version, &message); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = OpenRequest(lite::ControlStreamType::kFetch, message);
  if (id.ok()) fetches_[*id].stream = *id;
  return id;
}

const LiteSubscriber::AnnounceStream* LiteSubscriber::announces(uint64_t stream) const {
  auto it = announces_.find(stream);
  return it == announces_.end() ? nullptr : &it->second;
}

const LiteSubscriber::Subscription* LiteSubscriber::subscription(uint64_t id) const {
  auto it = subscriptions_.find(id);
  return it == subscriptions_.end() ? nullptr : &it->second;
}

const LiteSubscriber::TrackRequest* LiteSubscriber::track_request(uint64_t stream) const {
  auto it = tracks_.find(stream);
  return it == tracks_.end() ? nullptr : &it->second;
}

const LiteSubscriber::FetchRequest* LiteSubscriber::fetch(uint64_t stream) const {
  auto it = fetches_.find(stream);
  return it == fetches_.end() ? nullptr : &it->second;
}

std::vector<std::string> LiteSubscriber::Received(uint64_t subscribe_id) const {
  std::vector<std::string> out;
  for (const ReceivedGroup& g : groups_) {
    if (g.subscribe_id != subscribe_id || !g.complete) continue;
    std::string entry = absl::StrCat(g.sequence, ":");
    for (size_t i = 0; i < g.frames.size(); ++i) {
      if (i > 0) entry += "|";
      entry += g.frames[i].payload;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

void LiteSubscriber::Fail(ErrorCode code, std::string reason) {
  if (closed()) return;
  error_ = reason;
  mux_->Close(static_cast<uint64_t>(code), reason);
  if (!close_info_.has_value()) {
    CloseInfo info;
    info.application = true;
    info.code = static_cast<uint64_t>(code);
    info.reason = std::move(reason);
    close_info_ = info;
  }
}

void LiteSubscriber::OnStreamOpened(uint64_t id) {
  if (closed() || streams_.count(id) != 0) return;
  if (!IsUnidirectionalStream(id)) {
    // A publisher opens no bidirectional stream toward a subscriber here.
    mux_->ResetStream(id, static_cast<uint64_t>(ErrorCode::kUnexpectedStream));
    mux_->StopSending(id, static_cast<uint64_t>(ErrorCode::kUnexpectedStream));
    return;
  }
  streams_[id] = std::make_unique<StreamState>(StreamState::Kind::kIncoming, options_.max_message_size);
}

void LiteSubscriber::OnStreamData(uint64_t id, std::string_view data, bool fin) {
  if (closed()) return;
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second->fin) return;
  StreamState& s = *it->second;
  s.reader.Append(data);
  s.fin = fin;
  if (IsUnidirectionalStream(id)) {
    ProcessIncoming(id, s);
  } else {
    ProcessResponse(id, s);
  }
}

bool LiteSubscriber::ReadFrames(StreamState& s, std::vector<lite::Frame>* frames) {
  const bool lite05 = options_.version == Version::kLite05;
  while (!s.reader.empty()) {
    lite::WireReader r(s.reader.pending());
    uint64_t zigzag = 0;
    uint64_t size = 0;
    if ((lite05 && r.ReadVarint(&zigzag) != ReadStatus::kOk) || r.ReadVarint(&size) != ReadStatus::kOk) {
      break;
    }
    if (size > options_.max_frame_size) {
      Fail(ErrorCode::kFrameTooLarge, absl::StrCat("frame of ", size, " bytes"));
      return false;
    }
    if (r.remaining() < size) break;
    lite::Frame frame;
    frame.timestamp_delta = lite::ZigzagDecode(zigzag);
    frame.payload = std::string(s.reader.pending().substr(r.consumed(), size));
    s.reader.Skip(r.consumed() + size);
    frames->push_back(std::move(frame));
  }
  if (s.fin && !s.reader.empty()) {
    Fail(ErrorCode::kDecode, "stream ended inside a frame");
    return false;
  }
  return true;
}

void LiteSubscriber::ProcessIncoming(uint64_t id, StreamState& s) {
  using Kind = StreamState::Kind;
  if (s.kind == Kind::kIncoming) {
    uint64_t type = 0;
    if (s.reader.ReadVarint(&type) != ReadStatus::kOk) return;
    if (type == static_cast<uint64_t>(lite::DataStreamType::kGroup)) {
      s.kind = Kind::kGroup;
    } else if (type == static_cast<uint64_t>(lite::DataStreamType::kSetup) && options_.version == Version::kLite05) {
      s.kind = Kind::kSetup;
    } else {
      mux_->StopSending(id, static_cast<uint64_t>(ErrorCode::kUnexpectedStream));
      s.kind = Kind::kDone;
      return;
    }
  }
  if (s.kind == Kind::kSetup) {
    auto r = s.reader.Next(options_.version, &lite::Setup::Decode);
    if (r.error()) return Fail(r.code, r.reason);
    if (r.ok()) {
      peer_setup_ = std::move(r.value);
      s.kind = Kind::kDone;
    } else if (s.fin) {
      Fail(ErrorCode::kDecode, "SETUP stream ended early");
    }
    return;
  }
  if (s.kind != Kind::kGroup) return;
  if (s.group_index == 0) {
    auto r = s.reader.Next(options_.version, &lite::GroupHeader::Decode);
    if (r.error()) return Fail(r.code, r.reason);
    if (!r.ok()) {
      if (s.fin) Fail(ErrorCode::kDecode, "group stream ended early");
      return;
    }
    ReceivedGroup g;
    g.stream = id;
    g.subscribe_id = r.value.subscribe_id;
    g.sequence = r.value.sequence;
    groups_.push_back(std::move(g));
    s.group_index = groups_.size();  // 1-based.
  }
  ReceivedGroup& g = groups_[s.group_index - 1];
  if (!ReadFrames(s, &g.frames)) return;
  if (s.fin) g.complete = true;
}

void LiteSubscriber::ProcessResponse(uint64_t id, StreamState& s) {
  using Kind = StreamState::Kind;
  const Version v = options_.version;
  // Bounded by the bytes buffered: every decoded message consumes some.
  while (!s.reader.empty()) {
    if (s.kind == Kind::kAnnounce) {
      AnnounceStream& a = announces_[id];
      if (v == Version::kLite05 && !a.ok.has_value()) {
        auto r = s.reader.Next(v, &lite::AnnounceOk::Decode);
        if (r.error()) return Fail(r.code, r.reason);
        if (!r.ok()) break;
        a.ok = r.value;
        continue;
      }
      auto r = s.reader.Next(v, &lite::Announce::Decode);
      if (r.error()) return Fail(r.code, r.reason);
      if (!r.ok()) break;
      if (r.value.status == lite::AnnounceStatus::kActive) {
        a.active.insert(r.value.suffix);
      } else {
        a.active.erase(r.value.suffix);
      }
      a.messages.push_back(std::move(r.value));
    } else if (s.kind == Kind::kSubscribe) {
      auto r = s.reader.Next(v, &lite::DecodeSubscribeResponse, /*typed=*/true);
      if (r.error()) return Fail(r.code, r.reason);
      if (!r.ok()) break;
      subscriptions_[subscription_streams_[id]].responses.push_back(std::move(r.value));
    } else if (s.kind == Kind::kTrack) {
      TrackRequest& t = tracks_[id];
      if (t.info.has_value()) return Fail(ErrorCode::kDecode, "bytes after TRACK_INFO");
      auto r = s.reader.Next(v, &lite::TrackInfo::Decode);
      if (r.error()) return Fail(r.code, r.reason);
      if (!r.ok()) break;
      t.info = r.value;
    } else if (s.kind == Kind::kFetch) {
      if (!ReadFrames(s, &fetches_[id].frames)) return;
      break;
    } else {
      break;
    }
  }
  if (!s.fin) return;
  if (!s.reader.empty()) return Fail(ErrorCode::kDecode, "stream ended inside a message");
  switch (s.kind) {
    case Kind::kAnnounce:
      announces_[id].finished = true;
      break;
    case Kind::kSubscribe:
      subscriptions_[subscription_streams_[id]].finished = true;
      break;
    case Kind::kTrack:
      tracks_[id].finished = true;
      break;
    case Kind::kFetch:
      fetches_[id].finished = true;
      break;
    default:
      break;
  }
}

void LiteSubscriber::OnStreamReset(uint64_t id, uint64_t code) {
  if (closed()) return;
  if (auto it = announces_.find(id); it != announces_.end()) it->second.reset_code = code;
  if (auto it = subscription_streams_.find(id); it != subscription_streams_.end()) {
    subscriptions_[it->second].reset_code = code;
  }
  if (auto it = tracks_.find(id); it != tracks_.end()) it->second.reset_code = code;
  if (auto it = fetches_.find(id); it != fetches_.end()) it->second.reset_code = code;
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second->kind == StreamState::Kind::kGroup && it->second->group_index > 0) {
    groups_[it->second->group_index - 1].reset_code = code;
  }
  if (it != streams_.end()) it->second->fin = true;  // Nothing more comes.
}

void LiteSubscriber::OnStopSending(uint64_t, uint64_t) {}

void LiteSubscriber::OnClosed(const CloseInfo& info) {
  if (!close_info_.has_value()) close_info_ = info;
}

}  // namespace moq_stats::lite::test
