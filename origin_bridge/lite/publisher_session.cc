#include "origin_bridge/lite/publisher_session.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/path.h"
#include "origin_bridge/lite/internal/announce_server.h"
#include "origin_bridge/lite/internal/session_context.h"
#include "origin_bridge/lite/internal/stream_reader.h"
#include "origin_bridge/lite/internal/subscription_server.h"

namespace moq_stats::lite {

namespace {

using internal::StreamReader;

// Every track's TRACK_INFO: the properties a moq-net publisher reports for a
// track created without explicit ones (track::Info::default()).
constexpr uint64_t kTrackMaxLatencyMs = 5000;
constexpr uint64_t kTrackTimescale = 1000;

// One stream the peer opened, from its first byte until we are done with it.
struct PeerStream {
  enum class Kind { kNew, kSetup, kAnnounce, kSubscribe, kTrack, kFetch, kDone };

  explicit PeerStream(size_t max_message_size) : reader(max_message_size) {}

  Kind kind = Kind::kNew;
  StreamReader reader;
  bool request_read = false;  // The stream's first message was handled.
  bool fin = false;           // The peer finished its side.
};

}  // namespace

struct PublisherSession::State {
  State(PublisherOptions options, StreamMux* mux, Origin* origin, std::function<void()> wake)
      : announces(&ctx), subscriptions(&ctx) {
    ctx.options = std::move(options);
    ctx.mux = mux;
    ctx.origin = origin;
    ctx.ready = std::make_shared<internal::ReadyQueue>(std::move(wake));
    if (ctx.options.clock != nullptr) {
      ctx.start_time = ctx.options.timestamp_epoch.value_or(ctx.options.clock->Now());
    }
  }

  // Every entry point holds one: streams forgotten and consumers released
  // while handling an event are destroyed only when the outermost returns,
  // so no handler runs on freed state (the mux may call back into us).
  class Scope {
   public:
    explicit Scope(State* state) : state_(state) { ++state_->depth; }
    ~Scope() {
      if (--state_->depth == 0) state_->Settle();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    State* state_;
  };

  void Settle() {
    if (ctx.closed) {
      announces.Clear();
      subscriptions.Clear();
      streams.clear();
      forgotten.clear();
      return;
    }
    for (uint64_t id : forgotten) streams.erase(id);
    forgotten.clear();
  }

  void Forget(uint64_t id, PeerStream& s) {
    s.kind = PeerStream::Kind::kDone;
    forgotten.push_back(id);
  }

  void CloseSession(ErrorCode code, std::string reason) {
    if (ctx.closed) return;
    // The owner logs the close once, with the peer.
    MOQSTATS_LOG(DEBUG) << "closing moq-lite session: " << reason;
    ctx.closed = true;
    CloseInfo info;
    info.application = true;
    info.code = static_cast<uint64_t>(code);
    info.reason = reason;
    close_info = info;
    ctx.mux->Close(info.code, reason);
  }

  // A stream whose bytes break the protocol.
  void FailStream(uint64_t id, PeerStream& s, ErrorCode code, std::string reason) {
    if (ctx.options.close_on_stream_error) {
      CloseSession(code, std::move(reason));
      return;
    }
    MOQSTATS_LOG(DEBUG) << "moq-lite stream " << id << ": " << LogSafe(reason);
    announces.Stop(id);
    subscriptions.Stop(id);
    ctx.mux->ResetStream(id, static_cast<uint64_t>(code));
    ctx.mux->StopSending(id, static_cast<uint64_t>(code));
    Forget(id, s);
  }

  // A stream we do not serve: refused on the stream only.
  void Refuse(uint64_t id, PeerStream& s, ErrorCode code) {
    if (!IsUnidirectionalStream(id)) {
      ctx.mux->ResetStream(id, static_cast<uint64_t>(code));
    }
    ctx.mux->StopSending(id, static_cast<uint64_t>(code));
    Forget(id, s);
  }

  void SendSetup() {
    absl::StatusOr<uint64_t> id = ctx.mux->OpenStream(false);
    if (!id.ok()) {
      if (absl::IsResourceExhausted(id.status())) {
        setup_pending = true;
        // No group may overtake the SETUP stream.
        ctx.credit_exhausted = true;
      }
      return;
    }
    setup_pending = false;
    Setup setup;
    if (ctx.options.setup_path.has_value()) {
      setup.parameters.push_back(SetupParameter{kSetupParameterPath, *ctx.options.setup_path});
    }
    if (ctx.options.setup_role.has_value()) {
      setup.parameters.push_back(Setup::VarintParameter(kSetupParameterRole, *ctx.options.setup_role));
    }
    if (ctx.options.origin_id != 0) {
      setup.parameters.push_back(Setup::VarintParameter(kSetupParameterOrigin, ctx.options.origin_id));
    }
    std::string out;
    AppendVarint(static_cast<uint64_t>(DataStreamType::kSetup), &out);
    if (!setup.Encode(ctx.options.version, &out).ok()) {
      MOQSTATS_LOG(ERROR) << "cannot encode our SETUP";
    }
    (void)ctx.mux->Write(*id, out, true);
  }

  void Process(uint64_t id, PeerStream& s);
  bool ReadType(uint64_t id, PeerStream& s);
  void ProcessSetup(uint64_t id, PeerStream& s);
  void ProcessAnnounce(uint64_t id, PeerStream& s);
  void ProcessSubscribe(uint64_t id, PeerStream& s);
  void ProcessTrack(uint64_t id, PeerStream& s);
  void ProcessFetch(uint64_t id, PeerStream& s);

  // Decodes the next message of `s`; on a codec error or a truncated stream
  // fails the stream and returns nullopt, as it does while more is needed.
  template <typename T>
  std::optional<T> Read(uint64_t id, PeerStream& s, DecodeResult<T> (*decode)(Version, std::string_view)) {
    DecodeResult<T> r = s.reader.Next(ctx.options.version, decode);
    if (r.ok()) return std::move(r.value);
    if (r.error()) {
      FailStream(id, s, r.code, std::move(r.reason));
    } else if (s.fin) {
      FailStream(id, s, ErrorCode::kDecode, "stream ended inside a message");
    }
    return std::nullopt;
  }

  internal::SessionContext ctx;
  internal::AnnounceServer announces;
  internal::SubscriptionServer subscriptions;
  absl::flat_hash_map<uint64_t, std::unique_ptr<PeerStream>> streams;
  std::vector<uint64_t> forgotten;
  std::optional<CloseInfo> close_info;
  std::optional<Setup> peer_setup;
  int depth = 0;
  bool started = false;
  bool setup_pending = false;
};

bool PublisherSession::State::ReadType(uint64_t id, PeerStream& s) {
  uint64_t type = 0;
  if (s.reader.ReadVarint(&type) != ReadStatus::kOk) {
    // A stream that ends before its type carries nothing to answer.
    if (s.fin) Forget(id, s);
    return false;
  }
  const bool lite05 = ctx.options.version == Version::kLite05;
  using Kind = PeerStream::Kind;
  if (IsUnidirectionalStream(id)) {
    if (type == static_cast<uint64_t>(DataStreamType::kSetup) && lite05) {
      s.kind = Kind::kSetup;
    } else if (type == static_cast<uint64_t>(DataStreamType::kGroup)) {
      // We never subscribe: no group stream can be for us.
      Refuse(id, s, ErrorCode::kCancel);
    } else {
      Refuse(id, s, ErrorCode::kUnexpectedStream);
    }
    return s.kind != Kind::kDone;
  }
  switch (type) {
    case static_cast<uint64_t>(ControlStreamType::kAnnounce):
      s.kind = Kind::kAnnounce;
      break;
    case static_cast<uint64_t>(ControlStreamType::kSubscribe):
      s.kind = Kind::kSubscribe;
      break;
    case static_cast<uint64_t>(ControlStreamType::kFetch):
      if (lite05)
        s.kind = Kind::kFetch;
      else
        Refuse(id, s, ErrorCode::kUnexpectedStream);
      break;
    case static_cast<uint64_t>(ControlStreamType::kTrack):
      if (lite05)
        s.kind = Kind::kTrack;
      else
        Refuse(id, s, ErrorCode::kUnexpectedStream);
      break;
    case static_cast<uint64_t>(ControlStreamType::kProbe):
      // We measure nothing to report (and advertise no Probe level).
      Refuse(id, s, ErrorCode::kUnsupported);
      break;
    case static_cast<uint64_t>(ControlStreamType::kGoaway):
      // Logged; the stream is dropped (reset with Cancel), the session goes
      // on.
      MOQSTATS_LOG(INFO) << "peer sent GOAWAY stream " << id;
      Refuse(id, s, ErrorCode::kCancel);
      break;
    default:
      Refuse(id, s, ErrorCode::kUnexpectedStream);
      break;
  }
  return s.kind != Kind::kDone;
}

void PublisherSession::State::Process(uint64_t id, PeerStream& s) {
  if (s.kind == PeerStream::Kind::kNew && !ReadType(id, s)) return;
  switch (s.kind) {
    case PeerStream::Kind::kSetup:
      ProcessSetup(id, s);
      break;
    case PeerStream::Kind::kAnnounce:
      ProcessAnnounce(id, s);
      break;
    case PeerStream::Kind::kSubscribe:
      ProcessSubscribe(id, s);
      break;
    case PeerStream::Kind::kTrack:
      ProcessTrack(id, s);
      break;
    case PeerStream::Kind::kFetch:
      ProcessFetch(id, s);
      break;
    case PeerStream::Kind::kNew:
    case PeerStream::Kind::kDone:
      break;
  }
}

void PublisherSession::State::ProcessSetup(uint64_t id, PeerStream& s) {
  std::optional<Setup> setup = Read(id, s, &Setup::Decode);
  if (!setup.has_value()) return;
  // The peer sends one SETUP; a second stream is ignored. Its origin id would
  // matter only to a relay forwarding routes; nothing else is used.
  if (!peer_setup.has_value()) peer_setup = std::move(setup);
  Forget(id, s);
}

void PublisherSession::State::ProcessAnnounce(uint64_t id, PeerStream& s) {
  if (!s.request_read) {
    std::optional<AnnounceRequest> request = Read(id, s, &AnnounceRequest::Decode);
    if (!request.has_value()) return;
    s.request_read = true;
    announces.Start(id, *request);
    if (ctx.closed) return;
  }
  if (!s.reader.empty()) {
    FailStream(id, s, ErrorCode::kDecode, "bytes after ANNOUNCE_REQUEST on an announce stream");
    return;
  }
  if (s.fin) {
    // The peer is done following: end ours too.
    announces.Stop(id);
    (void)ctx.mux->Write(id, {}, true);
    Forget(id, s);
  }
}

void PublisherSession::State::ProcessSubscribe(uint64_t id, PeerStream& s) {
  if (!s.request_read) {
    std::optional<Subscribe> request = Read(id, s, &Subscribe::Decode);
    if (!request.has_value()) return;
    s.request_read = true;
    std::optional<ErrorCode> refused = subscriptions.Start(id, *request);
    if (ctx.closed) return;
    if (refused.has_value()) {
      Refuse(id, s, *refused);
      return;
    }
  }
  // Bounded by the bytes buffered: each update consumes at least one.
  while (!s.reader.empty()) {
    std::optional<SubscribeUpdate> update = Read(id, s, &SubscribeUpdate::Decode);
    if (!update.has_value()) return;
    subscriptions.Update(id, *update);
    if (ctx.closed) return;
  }
  if (s.fin) {
    // Unsubscribe. A subscription that already ended has sent its FIN.
    if (subscriptions.Has(id)) {
      subscriptions.Stop(id);
      (void)ctx.mux->Write(id, {}, true);
    }
    Forget(id, s);
  }
}

void PublisherSession::State::ProcessTrack(uint64_t id, PeerStream& s) {
  std::optional<Track> request = Read(id, s, &Track::Decode);
  if (!request.has_value()) return;
  if (!ctx.origin->Subscribe(Path(request->broadcast), request->track).ok()) {
    Refuse(id, s, internal::RefusalCode(*ctx.origin, request->broadcast));
    return;
  }
  TrackInfo info;
  info.max_latency_ms = kTrackMaxLatencyMs;
  info.timescale = kTrackTimescale;
  std::string out;
  (void)info.Encode(ctx.options.version, &out);
  (void)ctx.mux->Write(id, out, true);
  Forget(id, s);
}

void PublisherSession::State::ProcessFetch(uint64_t id, PeerStream& s) {
  std::optional<Fetch> request = Read(id, s, &Fetch::Decode);
  if (!request.has_value()) return;
  // The origin keeps only each track's latest group: that is all a fetch
  // can find.
  absl::StatusOr<std::unique_ptr<TrackConsumer>> consumer =
      ctx.origin->Subscribe(Path(request->broadcast), request->track);
  // A new subscriber holds the latest group's frames so far.
  std::vector<Group> frames;
  if (consumer.ok()) {
    while (std::optional<Group> frame = (*consumer)->Next()) frames.push_back(*std::move(frame));
  }
  if (frames.empty() || frames.front().sequence != request->group) {
    Refuse(id, s, internal::RefusalCode(*ctx.origin, request->broadcast));
    return;
  }
  std::string out;
  uint64_t timestamp = internal::FrameTimestamp(ctx);
  for (const Group& frame : frames) {
    // The first frame carries the timestamp, the later ones deltas of 0.
    internal::AppendFrame(ctx.options.version, timestamp,
                          frame.frame ? std::string_view(*frame.frame) : std::string_view(), &out);
    timestamp = 0;
  }
  (void)ctx.mux->Write(id, out, true);
  ++ctx.counters.fetches_served;
  Forget(id, s);
}

PublisherSession::PublisherSession(PublisherOptions options, StreamMux* mux, Origin* origin, std::function<void()> wake)
    : state_(std::make_unique<State>(std::move(options), mux, origin, std::move(wake))) {}

PublisherSession::~PublisherSession() {
  // Consumers first: their notify callbacks hold the ready queue only.
  state_->announces.Clear();
  state_->subscriptions.Clear();
}

void PublisherSession::Start() {
  State::Scope scope(state_.get());
  if (state_->started || state_->ctx.closed) return;
  state_->started = true;
  if (state_->ctx.options.version == Version::kLite05) state_->SendSetup();
}

void PublisherSession::Poll() {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;
  for (uint64_t key : st.ctx.ready->TakeAll()) {
    if (st.ctx.closed) return;
    if (!st.announces.Drain(key)) st.subscriptions.Drain(key);
  }
  st.subscriptions.Flush();
}

Version PublisherSession::version() const { return state_->ctx.options.version; }

bool PublisherSession::closed() const { return state_->ctx.closed; }

const std::optional<CloseInfo>& PublisherSession::close_info() const { return state_->close_info; }

const PublisherCounters& PublisherSession::counters() const { return state_->ctx.counters; }

void PublisherSession::OnStreamOpened(uint64_t id) {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed || st.streams.contains(id)) return;
  st.streams[id] = std::make_unique<PeerStream>(st.ctx.options.max_message_size);
}

void PublisherSession::OnStreamData(uint64_t id, std::string_view data, bool fin) {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;
  auto it = st.streams.find(id);
  if (it == st.streams.end()) return;
  PeerStream& s = *it->second;
  if (s.kind == PeerStream::Kind::kDone || s.fin) return;
  s.reader.Append(data);
  s.fin = fin;
  st.Process(id, s);
}

void PublisherSession::OnStreamReset(uint64_t id, uint64_t code) {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;
  auto it = st.streams.find(id);
  if (it == st.streams.end() || it->second->kind == PeerStream::Kind::kDone) {
    return;
  }
  // The peer abandoned the stream: so do we, echoing its code.
  st.announces.Stop(id);
  st.subscriptions.Stop(id);
  if (!IsUnidirectionalStream(id)) st.ctx.mux->ResetStream(id, code);
  st.Forget(id, *it->second);
}

void PublisherSession::OnStopSending(uint64_t id, uint64_t code) {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;
  (void)code;
  auto it = st.streams.find(id);
  if (it == st.streams.end() || it->second->kind == PeerStream::Kind::kDone) {
    return;  // Our Group streams, or a stream already settled.
  }
  st.announces.Stop(id);
  st.subscriptions.Stop(id);
  st.ctx.mux->StopSending(id, static_cast<uint64_t>(ErrorCode::kCancel));
  st.Forget(id, *it->second);
}

void PublisherSession::OnStreamCreditAvailable() {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;
  st.ctx.credit_exhausted = false;
  if (st.setup_pending) st.SendSetup();
  st.subscriptions.Flush();
}

void PublisherSession::OnClosed(const CloseInfo& info) {
  State::Scope scope(state_.get());
  State& st = *state_;
  if (st.ctx.closed) return;  // We closed it; close_info says why.
  st.ctx.closed = true;
  st.close_info = info;
}

}  // namespace moq_stats::lite
