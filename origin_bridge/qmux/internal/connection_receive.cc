// Connection: bytes and frames from the peer.
//
// QMux runs over a reliable, ordered byte stream, so a stream's bytes arrive
// in order. A STREAM frame that starts past the bytes received so far (a gap)
// is a PROTOCOL_VIOLATION; one that repeats bytes already received is trimmed
// to what is new (the repeated part is neither delivered again nor charged
// again to flow control). A RESET_STREAM's final size below the bytes
// received is taken as the bytes received: QMux implementations up to
// draft-02 sent 0 there.

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/internal/connection_state.h"

namespace moq_stats::qmux {
namespace {

int Dir(uint64_t id) { return IsUnidirectionalStream(id) ? 1 : 0; }

}  // namespace

class Connection::State::Visitor : public RecordVisitor {
 public:
  explicit Visitor(State* state) : state_(state) {}
  void OnFrame(Frame frame) override { state_->HandleFrame(std::move(frame)); }
  void OnParsingError(uint64_t code, std::string_view reason) override { state_->CloseWithError(code, 0, reason); }

 private:
  State* state_;
};

void Connection::State::Receive(std::string_view bytes) {
  if (closed) return;
  const bool tcp = options.records && options.mode == RecordMode::kTcp;
  if (!tcp) {
    // One WebSocket message: a record (draft-01) or bare frames (draft-00).
    ParseOne(bytes);
    return;
  }
  if (receiving) {
    // Called from a callback: parsed once the current record is done.
    reentrant_input.append(bytes);
    return;
  }
  receiving = true;
  tcp_buffer.append(bytes);
  size_t pos = 0;
  for (;;) {
    if (closed) break;
    std::string_view record;
    size_t consumed = 0;
    ParseResult r =
        ReadTcpRecord(std::string_view(tcp_buffer).substr(pos), options.local.max_record_size, &record, &consumed);
    if (r.need_more()) {
      if (reentrant_input.empty()) break;
    } else if (r.error()) {
      CloseWithError(r.error_code, 0, r.reason);
      break;
    } else {
      // A callback cannot touch tcp_buffer (its input goes to
      // reentrant_input), so `record` stays valid while it is parsed.
      pos += consumed;
      ParseOne(record);
    }
    if (closed) break;
    if (!reentrant_input.empty()) {
      tcp_buffer.erase(0, pos);
      pos = 0;
      tcp_buffer.append(reentrant_input);
      reentrant_input.clear();
    }
  }
  receiving = false;
  if (closed) {
    tcp_buffer.clear();
    reentrant_input.clear();
  } else {
    tcp_buffer.erase(0, pos);
  }
}

void Connection::State::ParseOne(std::string_view record) {
  Visitor visitor(this);
  const uint64_t limit = options.records ? options.local.max_record_size : kQmux00MaxFrameSize;
  ParseRecord(record, limit, &visitor);
}

void Connection::State::HandleFrame(Frame frame) {
  if (closed) return;
  if (!peer_parameters) {
    if (const auto* params = std::get_if<TransportParametersFrame>(&frame)) {
      HandleTransportParameters(*params);
    } else if (const auto* f = std::get_if<ConnectionCloseFrame>(&frame)) {
      // A peer giving up before its parameters still says why.
      ClosedByPeer(/*application=*/false, f->error_code, f->reason);
    } else if (const auto* f = std::get_if<ApplicationCloseFrame>(&frame)) {
      ClosedByPeer(/*application=*/true, f->error_code, f->reason);
    } else {
      CloseWithError(kProtocolViolation, FrameType(frame), "first frame is not QX_TRANSPORT_PARAMETERS");
    }
    return;
  }
  if (auto* f = std::get_if<StreamFrame>(&frame)) {
    HandleStream(*f);
  } else if (const auto* f = std::get_if<ResetStreamFrame>(&frame)) {
    HandleResetStream(*f);
  } else if (const auto* f = std::get_if<StopSendingFrame>(&frame)) {
    HandleStopSending(*f);
  } else if (const auto* f = std::get_if<MaxDataFrame>(&frame)) {
    // A smaller value than before is stale and ignored (RFC 9000 19.9).
    send_data_max = std::max(send_data_max, f->maximum_data);
  } else if (const auto* f = std::get_if<MaxStreamDataFrame>(&frame)) {
    HandleMaxStreamData(*f);
  } else if (const auto* f = std::get_if<MaxStreamsFrame>(&frame)) {
    HandleMaxStreams(*f);
  } else if (const auto* f = std::get_if<StreamDataBlockedFrame>(&frame)) {
    // Informational; only checked for a stream it may name.
    StreamForPeerFrame(f->stream_id, kStreamDataBlockedFrameType, Need::kReceive);
  } else if (const auto* f = std::get_if<ConnectionCloseFrame>(&frame)) {
    ClosedByPeer(/*application=*/false, f->error_code, f->reason);
  } else if (const auto* f = std::get_if<ApplicationCloseFrame>(&frame)) {
    ClosedByPeer(/*application=*/true, f->error_code, f->reason);
  } else if (std::holds_alternative<TransportParametersFrame>(frame)) {
    CloseWithError(kProtocolViolation, kTransportParametersFrameType, "second QX_TRANSPORT_PARAMETERS");
  } else if (const auto* f = std::get_if<PingFrame>(&frame)) {
    if (!f->response) {
      QueueFrame(PingFrame{/*response=*/true, f->sequence});
      ++counters.pings_answered;
    }
  }
  // PADDING, DATA_BLOCKED and STREAMS_BLOCKED need nothing.
}

void Connection::State::HandleTransportParameters(const TransportParametersFrame& frame) {
  TransportParameters params;
  if (ParseResult r = FromFrame(frame, &params); r.error()) {
    CloseWithError(r.error_code, kTransportParametersFrameType, r.reason);
    return;
  }
  if (options.records && params.max_record_size < kDefaultMaxRecordSize) {
    CloseWithError(kTransportParameterError, kTransportParametersFrameType,
                   absl::StrCat("max_record_size ", params.max_record_size, " below ", kDefaultMaxRecordSize));
    return;
  }
  if (params.initial_max_streams_bidi > kMaxStreamCount || params.initial_max_streams_uni > kMaxStreamCount) {
    CloseWithError(kTransportParameterError, kTransportParametersFrameType, "initial_max_streams above 2^60");
    return;
  }
  send_data_max = params.initial_max_data;
  local_max[0] = params.initial_max_streams_bidi;
  local_max[1] = params.initial_max_streams_uni;
  peer_parameters = std::move(params);
  bool credit = false;
  for (int dir = 0; dir < 2; ++dir) {
    if (local_blocked[dir] && local_max[dir] > local_next[dir]) {
      local_blocked[dir] = false;
      credit = true;
    }
  }
  if (credit) EmitCreditAvailable();
}

internal::StreamState* Connection::State::StreamForPeerFrame(uint64_t id, uint64_t frame_type, Need need) {
  const int dir = Dir(id);
  const uint64_t index = id >> 2;
  if (IsLocal(id)) {
    if (need == Need::kReceive && dir == 1) {
      CloseWithError(kStreamStateError, frame_type, absl::StrCat("stream ", id, " is our unidirectional stream"));
      return nullptr;
    }
    if (index >= local_next[dir]) {
      CloseWithError(kStreamStateError, frame_type, absl::StrCat("stream ", id, " is not open"));
      return nullptr;
    }
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }
  if (need == Need::kSend && dir == 1) {
    CloseWithError(kStreamStateError, frame_type, absl::StrCat("stream ", id, " is the peer's unidirectional stream"));
    return nullptr;
  }
  if (index < peer_next[dir]) {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }
  if (!peer_stream_window[dir].ReceiveUpTo(index + 1)) {
    CloseWithError(kStreamLimitError, frame_type,
                   absl::StrCat("stream ", id, " beyond the stream limit ", peer_stream_window[dir].max()));
    return nullptr;
  }
  // Opening index N opens every lower index of the same type (RFC 9000 3.2).
  const uint64_t first = peer_next[dir];
  const TransportParameters& local = options.local;
  const TransportParameters& peer = *peer_parameters;
  for (uint64_t i = first; i <= index; ++i) {
    internal::StreamState s;
    s.id = (i << 2) | (id & 0x3);
    s.can_receive = true;
    s.receive_done = false;
    s.receive_window = internal::ReceiveWindow(dir == 1 ? local.initial_max_stream_data_uni
                                                        : local.initial_max_stream_data_bidi_remote);
    if (dir == 0) {
      s.can_send = true;
      s.send_done = false;
      // The peer opened it: its bidi_local limit applies to what we send.
      s.send_max = peer.initial_max_stream_data_bidi_local;
    }
    streams.emplace(s.id, std::move(s));
    ++counters.peer_streams_opened;
  }
  peer_next[dir] = index + 1;
  for (uint64_t i = first; i <= index && !closed; ++i) EmitOpened((i << 2) | (id & 0x3));
  if (closed) return nullptr;
  auto it = streams.find(id);
  return it == streams.end() ? nullptr : &it->second;
}

void Connection::State::HandleStream(StreamFrame& frame) {
  const uint64_t type = FrameType(frame);
  internal::StreamState* s = StreamForPeerFrame(frame.stream_id, type, Need::kReceive);
  if (s == nullptr) return;
  const uint64_t end = frame.offset + frame.data.size();
  if (s->final_size && (end > *s->final_size || (frame.fin && end != *s->final_size))) {
    CloseWithError(kFinalSizeError, type, "STREAM beyond or changing the final size");
    return;
  }
  if (frame.fin && end < s->receive_offset) {
    CloseWithError(kFinalSizeError, type, "FIN below the bytes already received");
    return;
  }
  if (frame.offset > s->receive_offset) {
    CloseWithError(kProtocolViolation, type, "STREAM leaves a gap");
    return;
  }
  if (s->receive_done) return;  // A repeat of bytes already accounted for.
  const uint64_t fresh = end > s->receive_offset ? end - s->receive_offset : 0;
  if (!s->receive_window.ReceiveUpTo(end)) {
    CloseWithError(kFlowControlError, type, "stream data beyond MAX_STREAM_DATA");
    return;
  }
  if (!receive_data_window.Receive(fresh)) {
    CloseWithError(kFlowControlError, type, "data beyond MAX_DATA");
    return;
  }
  std::string_view piece(frame.data);
  piece.remove_prefix(frame.data.size() - fresh);
  s->receive_offset += fresh;
  const bool finishing = frame.fin;
  if (finishing) {
    s->final_size = end;
    s->receive_done = true;
    retire_candidates.push_back(s->id);
  }
  // Delivered (or discarded after STOP_SENDING) bytes count as consumed.
  if (auto raised = receive_data_window.Consume(fresh)) QueueFrame(MaxDataFrame{*raised});
  if (!finishing && !s->stop_sending_sent) {
    if (auto raised = s->receive_window.Consume(fresh)) {
      QueueFrame(MaxStreamDataFrame{s->id, *raised});
    }
  }
  if (s->stop_sending_sent) return;
  if (piece.empty() && !finishing) return;
  EmitData(s->id, piece, finishing);
}

void Connection::State::HandleResetStream(const ResetStreamFrame& frame) {
  internal::StreamState* s = StreamForPeerFrame(frame.stream_id, kResetStreamFrameType, Need::kReceive);
  if (s == nullptr || s->receive_done) return;
  const uint64_t final_size = std::max(frame.final_size, s->receive_offset);
  const uint64_t gap = final_size - s->receive_offset;
  if (!s->receive_window.ReceiveUpTo(final_size) || !receive_data_window.Receive(gap)) {
    CloseWithError(kFlowControlError, kResetStreamFrameType, "final size beyond credit");
    return;
  }
  // The bytes never sent can hold no memory: return them at once.
  if (auto raised = receive_data_window.Consume(gap)) QueueFrame(MaxDataFrame{*raised});
  s->receive_offset = final_size;
  s->final_size = final_size;
  s->receive_done = true;
  retire_candidates.push_back(s->id);
  EmitReset(s->id, frame.error_code);
}

void Connection::State::HandleStopSending(const StopSendingFrame& frame) {
  internal::StreamState* s = StreamForPeerFrame(frame.stream_id, kStopSendingFrameType, Need::kSend);
  if (s == nullptr || s->send_done) return;
  const uint64_t id = s->id;
  Reset(id, frame.error_code, /*by_peer_stop=*/true);
  EmitStopSending(id, frame.error_code);
}

void Connection::State::HandleMaxStreamData(const MaxStreamDataFrame& frame) {
  internal::StreamState* s = StreamForPeerFrame(frame.stream_id, kMaxStreamDataFrameType, Need::kSend);
  if (s == nullptr || frame.maximum_stream_data <= s->send_max) return;
  s->send_max = frame.maximum_stream_data;
  MarkSendable(*s);
}

void Connection::State::HandleMaxStreams(const MaxStreamsFrame& frame) {
  const int dir = frame.unidirectional ? 1 : 0;
  if (frame.maximum_streams <= local_max[dir]) return;
  local_max[dir] = frame.maximum_streams;
  if (local_blocked[dir]) {
    local_blocked[dir] = false;
    EmitCreditAvailable();
  }
}

}  // namespace moq_stats::qmux
