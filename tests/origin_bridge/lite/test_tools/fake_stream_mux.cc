#include "tests/origin_bridge/lite/test_tools/fake_stream_mux.h"

#include <utility>

namespace moq_stats::lite::test {

namespace {

uint64_t StreamId(uint64_t index, bool server, bool bidirectional) {
  return (index << 2) | (bidirectional ? 0 : 2) | (server ? 1 : 0);
}

}  // namespace

absl::StatusOr<uint64_t> FakeStreamMux::OpenStream(bool bidirectional) {
  if (closed_) return absl::FailedPreconditionError("connection closed");
  uint64_t& credit = bidirectional ? bidi_credit_ : uni_credit_;
  if (credit == 0) return absl::ResourceExhaustedError("no stream credit");
  --credit;
  uint64_t& next = bidirectional ? next_bidi_ : next_uni_;
  const uint64_t id = StreamId(next++, is_server_, bidirectional);
  StreamRecord& r = Record(id);
  r.ours = true;
  r.bidi = bidirectional;
  outbox_.push_back(Action{Action::kOpen, id, {}, false, 0});
  return id;
}

absl::Status FakeStreamMux::Write(uint64_t id, std::string_view data, bool fin) {
  if (closed_) return absl::FailedPreconditionError("connection closed");
  auto it = streams_.find(id);
  if (it == streams_.end()) return absl::FailedPreconditionError("unknown stream");
  StreamRecord& r = it->second;
  if (!r.ours && !r.bidi) {
    return absl::FailedPreconditionError("the peer's unidirectional stream");
  }
  if (r.peer_stopped) return absl::OkStatus();  // Dropped silently.
  if (r.fin || r.reset_code.has_value()) {
    return absl::FailedPreconditionError("stream already finished or reset");
  }
  r.written.append(data.data(), data.size());
  r.fin = fin;
  outbox_.push_back(Action{Action::kData, id, std::string(data), fin, 0});
  return absl::OkStatus();
}

void FakeStreamMux::ResetStream(uint64_t id, uint64_t code) {
  auto it = streams_.find(id);
  if (closed_ || it == streams_.end()) return;
  StreamRecord& r = it->second;
  if (r.fin || r.reset_code.has_value() || (!r.ours && !r.bidi)) return;
  r.reset_code = code;
  outbox_.push_back(Action{Action::kReset, id, {}, false, code});
}

void FakeStreamMux::StopSending(uint64_t id, uint64_t code) {
  auto it = streams_.find(id);
  if (closed_ || it == streams_.end()) return;
  StreamRecord& r = it->second;
  if (r.stop_sending_code.has_value() || (r.ours && !r.bidi)) return;
  r.stop_sending_code = code;
  outbox_.push_back(Action{Action::kStop, id, {}, false, code});
}

void FakeStreamMux::Close(uint64_t code, std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  CloseInfo info;
  info.application = true;
  info.code = code;
  info.reason = std::string(reason);
  close_info_ = info;
  outbox_.push_back(Action{Action::kClose, 0, std::string(reason), false, code});
  if (events_ != nullptr) events_->OnClosed(info);
}

uint64_t FakeStreamMux::queued_bytes() const {
  if (queued_override_.has_value()) return *queued_override_;
  uint64_t total = 0;
  for (const Action& a : outbox_) total += a.data.size();
  return total;
}

const FakeStreamMux::StreamRecord* FakeStreamMux::stream(uint64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

std::string FakeStreamMux::written(uint64_t id) const {
  const StreamRecord* r = stream(id);
  return r == nullptr ? std::string() : r->written;
}

std::vector<uint64_t> FakeStreamMux::OpenedStreams(bool bidirectional) const {
  std::vector<uint64_t> out;
  for (const auto& [id, r] : streams_) {
    if (r.ours && r.bidi == bidirectional) out.push_back(id);
  }
  return out;
}

void FakeStreamMux::GrantUni(uint64_t n) {
  uni_credit_ += n;
  if (events_ != nullptr && !closed_) events_->OnStreamCreditAvailable();
}

void FakeStreamMux::GrantBidi(uint64_t n) {
  bidi_credit_ += n;
  if (events_ != nullptr && !closed_) events_->OnStreamCreditAvailable();
}

uint64_t FakeStreamMux::NextPeerId(bool bidirectional) {
  uint64_t& next = bidirectional ? next_peer_bidi_ : next_peer_uni_;
  return StreamId(next++, !is_server_, bidirectional);
}

uint64_t FakeStreamMux::PeerOpen(bool bidirectional) {
  const uint64_t id = NextPeerId(bidirectional);
  Deliver(Action{Action::kOpen, id, {}, false, 0});
  return id;
}

void FakeStreamMux::PeerSend(uint64_t id, std::string_view data, bool fin) {
  Deliver(Action{Action::kData, id, std::string(data), fin, 0});
}

uint64_t FakeStreamMux::PeerOpenAndSend(bool bidirectional, std::string_view data, bool fin) {
  const uint64_t id = PeerOpen(bidirectional);
  PeerSend(id, data, fin);
  return id;
}

void FakeStreamMux::PeerReset(uint64_t id, uint64_t code) { Deliver(Action{Action::kReset, id, {}, false, code}); }

void FakeStreamMux::PeerStopSending(uint64_t id, uint64_t code) { Deliver(Action{Action::kStop, id, {}, false, code}); }

void FakeStreamMux::PeerClose(uint64_t code, std::string_view reason) {
  Deliver(Action{Action::kClose, 0, std::string(reason), false, code});
}

void FakeStreamMux::Deliver(const Action& action) {
  if (closed_) return;
  switch (action.kind) {
    case Action::kOpen: {
      if (streams_.count(action.id) != 0) return;
      StreamRecord& r = Record(action.id);
      r.bidi = (action.id & 0x2) == 0;
      if (events_ != nullptr) events_->OnStreamOpened(action.id);
      return;
    }
    case Action::kData: {
      StreamRecord& r = Record(action.id);
      if (r.peer_fin || r.peer_reset_code.has_value()) return;
      r.received += action.data;
      r.peer_fin = action.fin;
      if (r.stop_sending_code.has_value()) return;  // Discarded.
      if (events_ != nullptr) {
        events_->OnStreamData(action.id, action.data, action.fin);
      }
      return;
    }
    case Action::kReset: {
      StreamRecord& r = Record(action.id);
      if (r.peer_fin || r.peer_reset_code.has_value()) return;
      r.peer_reset_code = action.code;
      if (events_ != nullptr) events_->OnStreamReset(action.id, action.code);
      return;
    }
    case Action::kStop: {
      StreamRecord& r = Record(action.id);
      if (r.peer_stopped) return;
      r.peer_stopped = true;
      r.peer_stop_code = action.code;
      // As QMux does: our side is reset for us.
      if (!r.fin && !r.reset_code.has_value()) r.reset_code = action.code;
      if (events_ != nullptr) events_->OnStopSending(action.id, action.code);
      return;
    }
    case Action::kClose: {
      closed_ = true;
      CloseInfo info;
      info.by_peer = true;
      info.application = true;
      info.code = action.code;
      info.reason = action.data;
      if (events_ != nullptr) events_->OnClosed(info);
      return;
    }
  }
}

bool Pump(FakeStreamMux& a, FakeStreamMux& b, int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    if (a.outbox_.empty() && b.outbox_.empty()) return true;
    std::vector<FakeStreamMux::Action> from_a;
    from_a.swap(a.outbox_);
    for (const auto& action : from_a) b.Deliver(action);
    std::vector<FakeStreamMux::Action> from_b;
    from_b.swap(b.outbox_);
    for (const auto& action : from_b) a.Deliver(action);
  }
  return a.outbox_.empty() && b.outbox_.empty();
}

}  // namespace moq_stats::lite::test
