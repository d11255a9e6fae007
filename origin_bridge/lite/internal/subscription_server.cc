#include "origin_bridge/lite/internal/subscription_server.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/path.h"

namespace moq_stats::lite::internal {

std::optional<ErrorCode> SubscriptionServer::Start(uint64_t stream, const Subscribe& msg) {
  if (entries_.size() >= ctx_->options.max_subscriptions || entries_.contains(stream)) {
    ++ctx_->counters.subscriptions_refused;
    return ErrorCode::kBoundsExceeded;
  }
  absl::StatusOr<std::unique_ptr<TrackConsumer>> consumer = ctx_->origin->Subscribe(Path(msg.broadcast), msg.track);
  if (!consumer.ok()) {
    ++ctx_->counters.subscriptions_refused;
    return RefusalCode(*ctx_->origin, msg.broadcast);
  }
  auto entry = std::make_unique<Entry>();
  entry->stream = stream;
  entry->id = msg.id;
  entry->consumer = std::move(consumer).value();
  entry->start = msg.start_group;
  entry->end = msg.end_group;
  ++ctx_->counters.subscriptions_served;

  if (ctx_->options.version != Version::kLite05) {
    SubscribeOk ok;
    ok.priority = msg.priority;
    std::string out;
    (void)ok.Encode(ctx_->options.version, &out);
    (void)ctx_->mux->Write(stream, out, false);
  }
  std::shared_ptr<ReadyQueue> ready = ctx_->ready;
  entry->consumer->SetNotify([ready, stream] { ready->Push(stream); });
  entries_[stream] = std::move(entry);
  UpdateGauge();
  Drain(stream);
  return std::nullopt;
}

void SubscriptionServer::Update(uint64_t stream, const SubscribeUpdate& msg) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  if (msg.start_group.has_value()) e.start = msg.start_group;
  e.end = msg.end_group;
  // Parked groups below the new floor are gone; those now inside the range
  // go out in order.
  while (!e.parked.empty()) {
    auto first = e.parked.begin();
    if (e.start.has_value() && first->first < *e.start) {
      e.parked.erase(first);
      continue;
    }
    if (e.end.has_value() && first->first > *e.end) break;
    std::vector<Group> frames = std::move(first->second);
    e.parked.erase(first);
    for (Group& frame : frames) Deliver(e, std::move(frame));
  }
  MaybeFinish(e);
}

bool SubscriptionServer::Drain(uint64_t stream) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return false;
  Entry& e = *it->second;
  // Bounded: the consumer holds at most TrackConsumer::kMaxPendingFrames
  // frames beyond what writers add meanwhile; cap the turn so a fast writer
  // cannot keep this loop going.
  bool more = true;
  for (size_t i = 0; i < 2 * TrackConsumer::kMaxPendingFrames; ++i) {
    std::optional<Group> frame = e.consumer->Next();
    if (!frame.has_value()) {
      more = false;
      break;
    }
    Offer(e, std::move(*frame));
  }
  if (more) ctx_->ready->Push(stream);  // The rest at the next Poll().
  if (!e.ending && e.consumer->ended()) {
    e.ending = true;
    ctx_->counters.groups_skipped += e.parked.size();
    e.parked.clear();
  }
  MaybeFinish(e);
  return true;
}

void SubscriptionServer::Offer(Entry& e, Group frame) {
  if (!e.highest.has_value() || frame.sequence > *e.highest) {
    e.highest = frame.sequence;
  }
  if (e.start.has_value() && frame.sequence < *e.start) return;
  if (e.end.has_value() && frame.sequence > *e.end) {
    auto parked = e.parked.find(frame.sequence);
    if (frame.index == 0) {
      e.parked[frame.sequence] = {std::move(frame)};
      if (e.parked.size() > kMaxParked) {
        e.parked.erase(e.parked.begin());
        ++ctx_->counters.groups_skipped;
      }
    } else if (parked != e.parked.end() && parked->second.back().index + 1 == frame.index) {
      parked->second.push_back(std::move(frame));
    }
    // Otherwise a later frame of a group whose start is gone: useless.
    return;
  }
  Deliver(e, std::move(frame));
}

void SubscriptionServer::Deliver(Entry& e, Group frame) {
  if (frame.index == 0) {
    if (ctx_->options.version == Version::kLite05 && !e.started) {
      e.started = true;
      // Nothing below the first group announced is sent afterwards.
      e.start = std::max(e.start.value_or(0), frame.sequence);
      SubscribeStart start;
      start.group = frame.sequence;
      std::string out;
      (void)start.Encode(ctx_->options.version, &out);
      (void)ctx_->mux->Write(e.stream, out, false);
    }
    // A newer group: whatever is held of an older one is skipped, and the
    // open group is done.
    bool truncated = false;
    if (const uint64_t dropped = e.consumer->dropped(); dropped != e.dropped_seen) {
      e.dropped_seen = dropped;
      truncated = true;
    }
    if (!e.held.empty()) {
      ++ctx_->counters.groups_skipped;
      truncated = truncated || e.held.front().index != 0;
      e.held.clear();
    }
    FinishOpen(e, truncated);
    e.held.push_back(std::move(frame));
  } else if (!e.held.empty()) {
    if (e.held.back().sequence != frame.sequence || e.held.back().index + 1 != frame.index) return;
    e.held.push_back(std::move(frame));
  } else if (e.open.has_value() && e.open->sequence == frame.sequence && e.open->next_index == frame.index) {
    e.held.push_back(std::move(frame));
  } else {
    return;  // A later frame of a group whose start was not sent.
  }
  if (!e.waiting && CanSendNow(e.held.front().index == 0) && SendHeld(e)) return;
  if (!e.waiting && !e.held.empty()) {
    e.waiting = true;
    waiting_.push_back(e.stream);
  }
}

bool SubscriptionServer::CanSendNow(bool new_stream) const {
  return !(new_stream && ctx_->credit_exhausted) && waiting_.empty() &&
         ctx_->mux->queued_bytes() <= ctx_->options.max_queued_bytes;
}

bool SubscriptionServer::SendHeld(Entry& e) {
  while (!e.held.empty()) {
    const Group& frame = e.held.front();
    const std::string empty;
    const std::string& payload = frame.frame ? *frame.frame : empty;
    const uint64_t timestamp = FrameTimestamp(*ctx_);
    if (frame.index == 0) {
      absl::StatusOr<uint64_t> id = ctx_->mux->OpenStream(false);
      if (!id.ok()) {
        if (absl::IsResourceExhausted(id.status())) {
          ctx_->credit_exhausted = true;
          return false;
        }
        e.held.clear();  // The connection is closing: the group goes nowhere.
        return true;
      }
      const std::string bytes = EncodeGroupStream(ctx_->options.version, e.id, frame.sequence, payload, timestamp);
      if (ctx_->mux->Write(*id, bytes, frame.complete).ok()) {
        ++ctx_->counters.groups_sent;
        ctx_->counters.group_bytes_sent += payload.size();
      }
      if (!frame.complete) e.open = OpenGroup{frame.sequence, *id, 1, timestamp};
    } else if (e.open.has_value() && e.open->sequence == frame.sequence && e.open->next_index == frame.index) {
      std::string bytes;
      AppendFrame(ctx_->options.version, timestamp - e.open->last_timestamp, payload, &bytes);
      if (ctx_->mux->Write(e.open->stream, bytes, frame.complete).ok()) {
        ctx_->counters.group_bytes_sent += payload.size();
      }
      ++e.open->next_index;
      e.open->last_timestamp = timestamp;
      if (frame.complete) e.open.reset();
    }
    e.held.pop_front();
  }
  return true;
}

void SubscriptionServer::FinishOpen(Entry& e, bool truncated) {
  if (!e.open.has_value()) return;
  if (truncated) {
    ctx_->mux->ResetStream(e.open->stream, static_cast<uint64_t>(ErrorCode::kCancel));
  } else {
    (void)ctx_->mux->Write(e.open->stream, {}, true);
  }
  e.open.reset();
}

void SubscriptionServer::Flush() {
  while (!waiting_.empty() && !ctx_->closed && !ctx_->credit_exhausted &&
         ctx_->mux->queued_bytes() <= ctx_->options.max_queued_bytes) {
    const uint64_t stream = waiting_.front();
    auto it = entries_.find(stream);
    if (it == entries_.end() || it->second->held.empty()) {
      waiting_.pop_front();
      if (it != entries_.end()) it->second->waiting = false;
      continue;
    }
    Entry& e = *it->second;
    if (!SendHeld(e)) break;  // Still its turn when credit returns.
    waiting_.pop_front();
    e.waiting = false;
    MaybeFinish(e);
  }
}

void SubscriptionServer::MaybeFinish(Entry& e) {
  if (!e.ending || !e.held.empty()) return;
  const uint64_t stream = e.stream;
  if (!e.finish_next_poll) {
    e.finish_next_poll = true;
    // The track ended: so did its last group.
    FinishOpen(e, /*truncated=*/false);
    ctx_->ready->Push(stream);  // wakes the owner for that Poll
    return;
  }
  std::string out;
  if (ctx_->options.version == Version::kLite05 && e.highest.has_value()) {
    SubscribeEnd end;
    end.group = *e.highest + 1;
    (void)end.Encode(ctx_->options.version, &out);
  }
  (void)ctx_->mux->Write(stream, out, true);
  Erase(stream, /*cancel=*/false);
}

void SubscriptionServer::Stop(uint64_t stream) { Erase(stream, /*cancel=*/!ctx_->closed); }

void SubscriptionServer::Erase(uint64_t stream, bool cancel) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return;
  std::unique_ptr<Entry> entry = std::move(it->second);
  entries_.erase(it);
  if (entry->waiting) {
    auto pos = std::find(waiting_.begin(), waiting_.end(), stream);
    if (pos != waiting_.end()) waiting_.erase(pos);
  }
  // Unsubscribed mid-group: that group will not be finished.
  if (cancel) FinishOpen(*entry, /*truncated=*/true);
  entry->consumer->SetNotify(nullptr);
  UpdateGauge();
}

void SubscriptionServer::Clear() {
  while (!entries_.empty()) Erase(entries_.begin()->first, /*cancel=*/false);
  waiting_.clear();
}

void SubscriptionServer::UpdateGauge() { ctx_->counters.subscriptions_active = entries_.size(); }

}  // namespace moq_stats::lite::internal
