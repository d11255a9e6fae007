// Connection: what the application sends. Written bytes wait in their
// stream's buffer and are framed (moved into STREAM frames in out_frames)
// within the peer's stream and connection credit whenever the connection
// settles, a chunk per stream in turn. Framed bytes count as sent; a reset
// takes back the ones TakeOutgoing has not handed out yet.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/internal/connection_state.h"

namespace moq_stats::qmux {

absl::StatusOr<uint64_t> Connection::State::Open(bool bidirectional) {
  if (closed) return absl::FailedPreconditionError("connection closed");
  const int dir = bidirectional ? 0 : 1;
  if (local_next[dir] >= local_max[dir]) {
    ++counters.blocked_on_credit;
    local_blocked[dir] = true;
    if (peer_parameters && streams_blocked_announced_at[dir] != local_max[dir]) {
      streams_blocked_announced_at[dir] = local_max[dir];
      QueueFrame(StreamsBlockedFrame{/*unidirectional=*/dir == 1, local_max[dir]});
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("peer allows ", local_max[dir], bidirectional ? " bidirectional" : " unidirectional", " streams"));
  }
  const uint64_t id = (local_next[dir]++ << 2) | (bidirectional ? 0 : 2) | (is_server ? 1 : 0);
  internal::StreamState s;
  s.id = id;
  s.can_send = true;
  s.send_done = false;
  // Opened by us: the peer's bidi_remote / uni limit applies to what we send.
  s.send_max = bidirectional ? peer_parameters->initial_max_stream_data_bidi_remote
                             : peer_parameters->initial_max_stream_data_uni;
  if (bidirectional) {
    s.can_receive = true;
    s.receive_done = false;
    s.receive_window = internal::ReceiveWindow(options.local.initial_max_stream_data_bidi_local);
  }
  streams.emplace(id, std::move(s));
  ++counters.streams_opened;
  return id;
}

absl::Status Connection::State::Write(uint64_t id, std::string_view data, bool fin) {
  if (closed) return absl::FailedPreconditionError("connection closed");
  auto it = streams.find(id);
  if (it == streams.end()) {
    if (stopped_retired.count(id) > 0) return absl::OkStatus();  // Dropped.
    return absl::FailedPreconditionError(absl::StrCat("stream ", id, " is not open"));
  }
  internal::StreamState& s = it->second;
  if (!s.can_send) {
    return absl::FailedPreconditionError(absl::StrCat("stream ", id, " is receive-only"));
  }
  if (s.stopped_by_peer) return absl::OkStatus();  // Dropped.
  if (s.send_done || s.fin_queued) {
    return absl::FailedPreconditionError(absl::StrCat("stream ", id, " is finished"));
  }
  if (s.send_buffer_pos > 0 && s.send_buffer_pos >= s.send_buffer.size() / 2) {
    s.send_buffer.erase(0, s.send_buffer_pos);
    s.send_buffer_pos = 0;
  }
  s.send_buffer.append(data);
  unframed_bytes += data.size();
  s.fin_queued = fin;
  MarkSendable(s);
  return absl::OkStatus();
}

void Connection::State::Reset(uint64_t id, uint64_t code, bool by_peer_stop) {
  if (closed) return;
  auto it = streams.find(id);
  if (it == streams.end()) return;
  internal::StreamState& s = it->second;
  if (!s.can_send || s.send_done) return;
  const uint64_t taken_back = UnframeStream(id);
  s.send_offset -= taken_back;
  send_data_used -= taken_back;
  unframed_bytes -= s.unframed_bytes();
  s.send_buffer.clear();
  s.send_buffer_pos = 0;
  s.fin_queued = false;
  s.send_done = true;
  s.stopped_by_peer = by_peer_stop;
  sendable.erase(id);
  QueueFrame(ResetStreamFrame{id, code, s.send_offset});
  retire_candidates.push_back(id);
}

void Connection::State::Stop(uint64_t id, uint64_t code) {
  if (closed) return;
  auto it = streams.find(id);
  if (it == streams.end()) return;
  internal::StreamState& s = it->second;
  if (!s.can_receive || s.receive_done || s.stop_sending_sent) return;
  s.stop_sending_sent = true;
  QueueFrame(StopSendingFrame{id, code});
}

uint64_t Connection::State::UnframeStream(uint64_t id) {
  uint64_t bytes = 0;
  auto end = std::remove_if(out_frames.begin(), out_frames.end(), [&](const Frame& f) {
    const auto* stream = std::get_if<StreamFrame>(&f);
    if (stream == nullptr || stream->stream_id != id) return false;
    bytes += stream->data.size();
    return true;
  });
  out_frames.erase(end, out_frames.end());
  framed_bytes -= bytes;
  return bytes;
}

void Connection::State::MarkSendable(const internal::StreamState& stream) {
  if (stream.has_pending_send()) sendable.insert(stream.id);
}

void Connection::State::FrameStreamData() {
  // Each pass frames at most one chunk per stream; a pass that frames
  // nothing ends it. Every chunk uses credit or ends a stream, so this stops.
  bool progress = true;
  while (progress && !sendable.empty()) {
    progress = false;
    for (auto it = sendable.begin(); it != sendable.end();) {
      auto found = streams.find(*it);
      if (found == streams.end() || !found->second.has_pending_send()) {
        it = sendable.erase(it);
        continue;
      }
      internal::StreamState& s = found->second;
      const uint64_t pending = s.unframed_bytes();
      const uint64_t stream_credit = s.send_max - std::min(s.send_max, s.send_offset);
      const uint64_t data_credit = send_data_max - std::min(send_data_max, send_data_used);
      if (data_credit == 0) {
        // Nothing with data can go until MAX_DATA, which the peer sends as
        // it reads what is in flight; a bare FIN waits with the rest rather
        // than every waiting stream being visited on each pass.
        if (data_blocked_announced_at != send_data_max) {
          data_blocked_announced_at = send_data_max;
          ++counters.blocked_on_credit;
          QueueFrame(DataBlockedFrame{send_data_max});
        }
        return;
      }
      const uint64_t n = std::min<uint64_t>({pending, stream_credit, data_credit, uint64_t{kMaxStreamFramePayload}});
      const bool fin = s.fin_queued && n == pending;
      if (n == 0 && !fin) {
        // Blocked: tell the peer once per limit (optional in QUIC, useful
        // when reading a capture).
        if (stream_credit == 0) {
          if (s.blocked_announced_at != s.send_max) {
            s.blocked_announced_at = s.send_max;
            ++counters.blocked_on_credit;
            QueueFrame(StreamDataBlockedFrame{s.id, s.send_max});
          }
        } else if (data_blocked_announced_at != send_data_max) {
          data_blocked_announced_at = send_data_max;
          ++counters.blocked_on_credit;
          QueueFrame(DataBlockedFrame{send_data_max});
        }
        ++it;
        continue;
      }
      StreamFrame frame;
      frame.stream_id = s.id;
      frame.offset = s.send_offset;
      frame.has_offset = true;
      frame.data = s.send_buffer.substr(s.send_buffer_pos, static_cast<size_t>(n));
      frame.fin = fin;
      s.send_buffer_pos += static_cast<size_t>(n);
      if (s.send_buffer_pos == s.send_buffer.size()) {
        s.send_buffer.clear();
        s.send_buffer_pos = 0;
      }
      s.send_offset += n;
      send_data_used += n;
      unframed_bytes -= n;
      framed_bytes += n;
      QueueFrame(std::move(frame));
      progress = true;
      if (fin) {
        s.send_done = true;
        s.fin_queued = false;
        retire_candidates.push_back(s.id);
      }
      if (!s.has_pending_send()) {
        it = sendable.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void Connection::State::RetireDoneStreams() {
  std::vector<uint64_t> candidates;
  candidates.swap(retire_candidates);
  for (uint64_t id : candidates) {
    auto it = streams.find(id);
    if (it == streams.end()) continue;
    const internal::StreamState& s = it->second;
    if (!s.send_done || !s.receive_done) continue;
    if (s.stopped_by_peer) {
      if (stopped_retired.insert(id).second) stopped_retired_order.push_back(id);
      if (stopped_retired_order.size() > kRememberedStoppedStreams) {
        stopped_retired.erase(stopped_retired_order.front());
        stopped_retired_order.pop_front();
      }
    }
    streams.erase(it);
    sendable.erase(id);
    if (!IsLocal(id)) {
      // A finished peer stream gives its stream-count credit back.
      const int dir = IsUnidirectionalStream(id) ? 1 : 0;
      if (auto raised = peer_stream_window[dir].Consume(1)) {
        QueueFrame(MaxStreamsFrame{/*unidirectional=*/dir == 1, *raised});
      }
    }
  }
}

}  // namespace moq_stats::qmux
