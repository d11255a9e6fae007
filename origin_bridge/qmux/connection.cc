#include "origin_bridge/qmux/connection.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"
#include "common/utf8.h"
#include "origin_bridge/qmux/internal/connection_state.h"

namespace moq_stats::qmux {
namespace {

// Counts a StreamEvents callback in progress (see connection_state.h).
class CallbackScope {
 public:
  explicit CallbackScope(int* depth) : depth_(depth) { ++*depth_; }
  ~CallbackScope() { --*depth_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  int* depth_;
};

std::string CutReason(std::string_view reason) {
  return std::string(reason.substr(0, std::min(reason.size(), kMaxCloseReason)));
}

}  // namespace

Connection::State::State(ConnectionOptions opts, StreamEvents* ev)
    : options(std::move(opts)),
      is_server(options.perspective == Perspective::kServer),
      events(ev),
      receive_data_window(options.local.initial_max_data) {
  peer_stream_window[0] = internal::ReceiveWindow(options.local.initial_max_streams_bidi, kMaxStreamCount);
  peer_stream_window[1] = internal::ReceiveWindow(options.local.initial_max_streams_uni, kMaxStreamCount);
  QueueFrame(ToFrame(options.local));
}

void Connection::State::Settle(bool frame) {
  if (callback_depth > 0 || closed) return;
  if (frame) FrameStreamData();
  RetireDoneStreams();
}

void Connection::State::EnterClosed() {
  closed = true;
  out_frames.erase(std::remove_if(out_frames.begin(), out_frames.end(),
                                  [](const Frame& f) { return std::holds_alternative<StreamFrame>(f); }),
                   out_frames.end());
  framed_bytes = 0;
  unframed_bytes = 0;
  streams.clear();
  sendable.clear();
  retire_candidates.clear();
  stopped_retired.clear();
  stopped_retired_order.clear();
  // While parsing, the record being read lives in tcp_buffer: Receive drops
  // it once parsing stops.
  if (!receiving) {
    tcp_buffer.clear();
    reentrant_input.clear();
  }
}

void Connection::State::CloseWithError(uint64_t code, uint64_t frame_type, std::string_view reason) {
  if (closed) return;
  EnterClosed();
  QueueFrame(ConnectionCloseFrame{code, frame_type, CutReason(reason)});
  close_info = CloseInfo{/*by_peer=*/false, /*application=*/false, code, std::string(reason)};
  EmitClosed();
}

void Connection::State::CloseByApplication(uint64_t code, std::string_view reason) {
  if (closed) return;
  EnterClosed();
  QueueFrame(ApplicationCloseFrame{code, CutReason(reason)});
  close_info = CloseInfo{/*by_peer=*/false, /*application=*/true, code, std::string(reason)};
  EmitClosed();
}

void Connection::State::ClosedByPeer(bool application, uint64_t code, std::string_view reason) {
  if (closed) return;
  EnterClosed();
  // Nothing more reaches a peer that is gone.
  out_frames.clear();
  // The reason comes from the peer (or the socket): it goes to logs and
  // status pages, so it is kept printable and short.
  close_info = CloseInfo{/*by_peer=*/true, application, code, PrintableText(reason)};
  EmitClosed();
}

std::vector<std::string> Connection::State::BuildOutgoing() {
  std::vector<std::string> out;
  if (out_frames.empty()) return out;
  if (options.records) {
    const uint64_t limit = peer_parameters ? peer_parameters->max_record_size : kDefaultMaxRecordSize;
    if (absl::Status s = BuildRecords(options.mode, out_frames, limit, &out); !s.ok()) {
      // Our own frames are sized to fit; failing here is a bug of ours.
      MOQSTATS_LOG(ERROR) << "qmux: cannot build records: " << s.ToString();
      out.clear();
    }
  } else {
    // Draft-00: one frame per WebSocket message.
    for (const Frame& frame : out_frames) {
      std::string message;
      if (absl::Status s = AppendFrame(frame, &message); !s.ok()) {
        MOQSTATS_LOG(ERROR) << "qmux: cannot encode frame: " << s.ToString();
        continue;
      }
      out.push_back(std::move(message));
    }
  }
  out_frames.clear();
  framed_bytes = 0;
  for (const std::string& chunk : out) counters.bytes_sent += chunk.size();
  return out;
}

void Connection::State::EmitOpened(uint64_t id) {
  if (closed || events == nullptr) return;
  CallbackScope scope(&callback_depth);
  events->OnStreamOpened(id);
}

void Connection::State::EmitData(uint64_t id, std::string_view data, bool fin) {
  if (closed || events == nullptr) return;
  CallbackScope scope(&callback_depth);
  events->OnStreamData(id, data, fin);
}

void Connection::State::EmitReset(uint64_t id, uint64_t code) {
  if (closed || events == nullptr) return;
  CallbackScope scope(&callback_depth);
  events->OnStreamReset(id, code);
}

void Connection::State::EmitStopSending(uint64_t id, uint64_t code) {
  if (closed || events == nullptr) return;
  CallbackScope scope(&callback_depth);
  events->OnStopSending(id, code);
}

void Connection::State::EmitCreditAvailable() {
  if (closed || events == nullptr) return;
  CallbackScope scope(&callback_depth);
  events->OnStreamCreditAvailable();
}

void Connection::State::EmitClosed() {
  if (events == nullptr || !close_info) return;
  CallbackScope scope(&callback_depth);
  // A copy, so the callback sees the values as they were when it was called.
  const CloseInfo info = *close_info;
  events->OnClosed(info);
}

Connection::Connection(ConnectionOptions options, StreamEvents* events)
    : state_(std::make_unique<State>(std::move(options), events)) {}

Connection::~Connection() = default;

void Connection::set_events(StreamEvents* events) { state_->events = events; }

void Connection::OnBytesReceived(std::string_view bytes) {
  state_->counters.bytes_received += bytes.size();
  state_->Receive(bytes);
  state_->Settle(/*frame=*/true);
}

void Connection::OnTransportClosed(std::string_view reason) {
  state_->ClosedByPeer(/*application=*/false, kNoError, reason);
}

std::vector<std::string> Connection::TakeOutgoing() {
  state_->Settle(/*frame=*/true);
  return state_->BuildOutgoing();
}

bool Connection::has_outgoing() const {
  // Framing is deferred to here and TakeOutgoing; it changes what is queued,
  // not what the connection holds.
  state_->Settle(/*frame=*/true);
  return !state_->out_frames.empty();
}

const std::optional<TransportParameters>& Connection::peer_parameters() const { return state_->peer_parameters; }

bool Connection::closed() const { return state_->closed; }

const std::optional<CloseInfo>& Connection::close_info() const { return state_->close_info; }

const ConnectionCounters& Connection::counters() const { return state_->counters; }

absl::StatusOr<uint64_t> Connection::OpenStream(bool bidirectional) { return state_->Open(bidirectional); }

// Writes only queue: stream data is framed once per TakeOutgoing /
// has_outgoing / received record, so a burst of writes costs one framing
// pass, not one per write over every stream waiting for credit.
absl::Status Connection::Write(uint64_t id, std::string_view data, bool fin) {
  absl::Status status = state_->Write(id, data, fin);
  state_->Settle(/*frame=*/false);
  return status;
}

void Connection::ResetStream(uint64_t id, uint64_t code) {
  state_->Reset(id, code, /*by_peer_stop=*/false);
  state_->Settle(/*frame=*/false);
}

void Connection::StopSending(uint64_t id, uint64_t code) {
  state_->Stop(id, code);
  state_->Settle(/*frame=*/false);
}

void Connection::Close(uint64_t code, std::string_view reason) { state_->CloseByApplication(code, reason); }

uint64_t Connection::queued_bytes() const { return state_->framed_bytes + state_->unframed_bytes; }

}  // namespace moq_stats::qmux
