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
    Group group = std::move(first->second);
    e.parked.erase(first);
    Deliver(e, std::move(group));
  }
  MaybeFinish(e);
}

bool SubscriptionServer::Drain(uint64_t stream) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return false;
  Entry& e = *it->second;
  // Bounded: the consumer holds at most TrackConsumer::kMaxPending groups
  // beyond what writers add meanwhile; cap the turn so a fast writer cannot
  // keep this loop going.
  bool more = true;
  for (size_t i = 0; i < 4 * TrackConsumer::kMaxPending; ++i) {
    std::optional<Group> group = e.consumer->Next();
    if (!group.has_value()) {
      more = false;
      break;
    }
    Offer(e, std::move(*group));
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

void SubscriptionServer::Offer(Entry& e, Group group) {
  if (!e.highest.has_value() || group.sequence > *e.highest) {
    e.highest = group.sequence;
  }
  if (e.start.has_value() && group.sequence < *e.start) return;
  if (e.end.has_value() && group.sequence > *e.end) {
    e.parked[group.sequence] = std::move(group);
    if (e.parked.size() > kMaxParked) {
      e.parked.erase(e.parked.begin());
      ++ctx_->counters.groups_skipped;
    }
    return;
  }
  Deliver(e, std::move(group));
}

void SubscriptionServer::Deliver(Entry& e, Group group) {
  if (ctx_->options.version == Version::kLite05 && !e.started) {
    e.started = true;
    // Nothing below the first group announced is sent afterwards.
    e.start = std::max(e.start.value_or(0), group.sequence);
    SubscribeStart start;
    start.group = group.sequence;
    std::string out;
    (void)start.Encode(ctx_->options.version, &out);
    (void)ctx_->mux->Write(e.stream, out, false);
  }
  if (!e.held.has_value() && CanSendNow() && Send(e, group)) return;
  Hold(e, std::move(group));
}

void SubscriptionServer::Hold(Entry& e, Group group) {
  if (e.held.has_value()) ++ctx_->counters.groups_skipped;
  e.held = std::move(group);
  if (!e.waiting) {
    e.waiting = true;
    waiting_.push_back(e.stream);
  }
}

bool SubscriptionServer::CanSendNow() const {
  return !ctx_->credit_exhausted && waiting_.empty() && ctx_->mux->queued_bytes() <= ctx_->options.max_queued_bytes;
}

bool SubscriptionServer::Send(Entry& e, const Group& group) {
  absl::StatusOr<uint64_t> id = ctx_->mux->OpenStream(false);
  if (!id.ok()) {
    if (absl::IsResourceExhausted(id.status())) {
      ctx_->credit_exhausted = true;
      return false;
    }
    return true;  // The connection is closing: the group goes nowhere.
  }
  const std::string empty;
  const std::string& payload = group.frame ? *group.frame : empty;
  const std::string bytes =
      EncodeGroupStream(ctx_->options.version, e.id, group.sequence, payload, FrameTimestamp(*ctx_));
  if (ctx_->mux->Write(*id, bytes, true).ok()) {
    ++ctx_->counters.groups_sent;
    ctx_->counters.group_bytes_sent += payload.size();
  }
  return true;
}

void SubscriptionServer::Flush() {
  while (!waiting_.empty() && !ctx_->closed && !ctx_->credit_exhausted &&
         ctx_->mux->queued_bytes() <= ctx_->options.max_queued_bytes) {
    const uint64_t stream = waiting_.front();
    auto it = entries_.find(stream);
    if (it == entries_.end() || !it->second->held.has_value()) {
      waiting_.pop_front();
      if (it != entries_.end()) it->second->waiting = false;
      continue;
    }
    Entry& e = *it->second;
    if (!Send(e, *e.held)) break;  // Still its turn when credit returns.
    waiting_.pop_front();
    e.waiting = false;
    e.held.reset();
    MaybeFinish(e);
  }
}

void SubscriptionServer::MaybeFinish(Entry& e) {
  if (!e.ending || e.held.has_value()) return;
  const uint64_t stream = e.stream;
  if (!e.finish_next_poll) {
    e.finish_next_poll = true;
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
  Erase(stream);
}

void SubscriptionServer::Stop(uint64_t stream) { Erase(stream); }

void SubscriptionServer::Erase(uint64_t stream) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return;
  std::unique_ptr<Entry> entry = std::move(it->second);
  entries_.erase(it);
  if (entry->waiting) {
    auto pos = std::find(waiting_.begin(), waiting_.end(), stream);
    if (pos != waiting_.end()) waiting_.erase(pos);
  }
  entry->consumer->SetNotify(nullptr);
  UpdateGauge();
}

void SubscriptionServer::Clear() {
  while (!entries_.empty()) Erase(entries_.begin()->first);
  waiting_.clear();
}

void SubscriptionServer::UpdateGauge() { ctx_->counters.subscriptions_active = entries_.size(); }

}  // namespace moq_stats::lite::internal
