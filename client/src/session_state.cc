#include "client/src/session_state.h"

#include <algorithm>
#include <utility>

#include "proto/counts_proto.h"

namespace moq_stats {
namespace internal {
namespace pb = ::moq::stats::v1;

namespace {

void AddDefine(const Handle& handle, pb::Batch* batch) {
  pb::Define* define = batch->add_defines();
  define->set_handle(handle.id);
  define->set_path(handle.path);
  define->set_tier(TierToProto(handle.tier));
  if (!handle.label.empty()) define->set_tier_label(handle.label);
  if (handle.presence) define->set_presence(true);
}

// Adds the delta from `from` to `to` of one role; false when nothing changed.
// A presence handle's only counts are its sessions: a resync (`sums_only`)
// carries none of them.
bool AddDelta(const Handle& handle, size_t role, const Counts& from, const Counts& to, bool sums_only,
              pb::Batch* batch) {
  if (from == to) return false;
  Counts delta = CountsSince(from, to);
  if (handle.presence) {
    if (sums_only) return false;
    pb::HandleDelta* d = batch->add_deltas();
    d->set_handle(handle.id);
    d->set_role(RoleToProto(static_cast<Role>(role)));
    d->set_sessions_opened(delta.broadcasts);
    d->set_sessions_closed(delta.broadcasts_closed);
    return true;
  }
  pb::HandleDelta* d = batch->add_deltas();
  d->set_handle(handle.id);
  d->set_role(RoleToProto(static_cast<Role>(role)));
  if (sums_only) {
    delta.broadcasts = delta.broadcasts_closed = delta.subscriptions = delta.subscriptions_closed = 0;
    delta.announced = delta.announced_closed = 0;
  }
  CountsToDelta(delta, d);
  return true;
}

int Entries(const pb::Batch& b) { return b.defines_size() + b.deltas_size() + b.releases_size() + b.open_size(); }

}  // namespace

SessionState::SessionState(uint32_t max_batch_entries, uint32_t max_inflight)
    : max_batch_entries_(std::max(max_batch_entries, kMinBatchEntries)),
      max_inflight_(max_inflight == 0 ? 1 : max_inflight) {}

void SessionState::SetMaxBatchEntries(uint32_t max_batch_entries) {
  max_batch_entries_ = std::max(max_batch_entries, kMinBatchEntries);
}

void SessionState::Track(std::shared_ptr<Handle> handle) {
  auto tracked = std::make_shared<Tracked>();
  tracked->handle = std::move(handle);
  tracked_.emplace(tracked->handle->id, std::move(tracked));
}

void SessionState::Release(uint32_t handle_id) {
  auto it = tracked_.find(handle_id);
  if (it != tracked_.end()) it->second->releasing = true;
}

std::vector<pb::Batch> SessionState::Collect() {
  std::vector<pb::Batch> out;
  Inflight current;
  auto flush = [&] {
    if (Entries(current.batch) == 0) return;
    current.batch.set_sequence(next_sequence_++);
    out.push_back(current.batch);
    inflight_.push_back(std::move(current));
    current = Inflight();
  };
  // Every handle once, starting where the last Collect stopped.
  std::vector<std::shared_ptr<Tracked>> order;
  order.reserve(tracked_.size());
  for (auto it = tracked_.lower_bound(next_handle_); it != tracked_.end(); ++it) order.push_back(it->second);
  for (auto it = tracked_.begin(); it != tracked_.end() && it->first < next_handle_; ++it) order.push_back(it->second);
  next_handle_ = 0;
  for (const std::shared_ptr<Tracked>& t : order) {
    // A handle needs at most 4 entries (define, two deltas, release); start
    // a new batch rather than split them.
    if (Entries(current.batch) + 4 > static_cast<int>(max_batch_entries_)) flush();
    if (inflight_.size() >= max_inflight_) {
      next_handle_ = t->handle->id;  // the window is full: go on from here next time
      break;
    }
    if (t->release_sent) continue;
    if (Withheld(*t)) {
      // A presence handle the sidecar would not understand: nothing is sent;
      // once let go it is forgotten.
      if (t->releasing) tracked_.erase(t->handle->id);
      continue;
    }
    const Handle& handle = *t->handle;
    HandleValues now = handle.Load();
    if (!t->defined) {
      AddDefine(handle, &current.batch);
      t->defined = true;
    }
    bool changed = false;
    for (size_t r = 0; r < 2; ++r) changed |= AddDelta(handle, r, t->sent[r], now[r], false, &current.batch);
    if (changed) {
      t->sent = now;
      current.covers.emplace_back(t, now);
    }
    if (t->releasing) {
      current.batch.add_releases(handle.id);
      t->release_sent = true;
      current.releases.push_back(t);
    }
  }
  if (inflight_.size() < max_inflight_) flush();
  return out;
}

std::vector<pb::Batch> SessionState::OnWelcome(bool resumed, uint64_t applied_sequence, uint64_t expired_applied) {
  // What an expired session applied was counted (and its guards closed when
  // it expired): those batches are done, like acknowledged ones.
  // Only for a session this relay sent batches in: the sequences of another
  // process that used the same id say nothing of this one's batches.
  if (!resumed && welcomed_before_ && expired_applied > 0 && expired_applied < next_sequence_) {
    OnAck(expired_applied);
  }
  OnAck(applied_sequence);
  std::vector<pb::Batch> out;
  bool lost = applied_sequence < acked_sequence_ || (!resumed && welcomed_before_);
  welcomed_before_ = true;
  if (lost) {
    ++resyncs_;
    return Resync();
  }
  for (const Inflight& f : inflight_) {
    out.insert(out.end(), f.leading.begin(), f.leading.end());
    out.push_back(f.batch);
  }
  return out;
}

std::vector<pb::Batch> SessionState::Resync() {
  // What was in flight is dropped: the resync batch carries it instead.
  for (Inflight& f : inflight_) {
    for (auto& t : f.releases) t->release_sent = false;
  }
  inflight_.clear();
  Inflight resync;
  const uint64_t sequence = next_sequence_++;
  size_t part_bytes = 0;
  auto start_part = [&](pb::Batch& batch) {
    batch.set_sequence(sequence);
    batch.set_resync(true);
    // Handles the sidecar restored but this relay has let go of are released.
    batch.set_release_unlisted(true);
  };
  start_part(resync.batch);
  for (auto& [id, t] : tracked_) {
    if (Withheld(*t)) {
      t->defined = false;
      continue;
    }
    // One handle's entries, whole, in one part.
    pb::Batch entries;
    const Handle& handle = *t->handle;
    AddDefine(handle, &entries);
    t->defined = true;
    for (size_t r = 0; r < 2; ++r) {
      const Counts& v = t->sent[r];
      if (handle.presence) {
        if (v.broadcasts != v.broadcasts_closed) {
          pb::OpenGuards* open = entries.add_open();
          open->set_handle(id);
          open->set_role(RoleToProto(static_cast<Role>(r)));
          open->set_sessions(v.broadcasts - v.broadcasts_closed);
        }
      } else if (v.broadcasts != v.broadcasts_closed || v.subscriptions != v.subscriptions_closed ||
                 v.announced != v.announced_closed) {
        pb::OpenGuards* open = entries.add_open();
        open->set_handle(id);
        open->set_role(RoleToProto(static_cast<Role>(r)));
        open->set_broadcasts(v.broadcasts - v.broadcasts_closed);
        open->set_subscriptions(v.subscriptions - v.subscriptions_closed);
        open->set_announced(v.announced - v.announced_closed);
      }
      // The sums sent but never acknowledged; the opens and closes are
      // settled by `open` above.
      AddDelta(handle, r, t->acked[r], v, true, &entries);
    }
    const size_t bytes = entries.ByteSizeLong();
    if (resync_part_bytes_ > 0 && part_bytes > 0 && part_bytes + bytes > resync_part_bytes_) {
      resync.batch.set_resync_continues(true);
      resync.leading.push_back(std::move(resync.batch));
      resync.batch = pb::Batch();
      start_part(resync.batch);
      part_bytes = 0;
    }
    part_bytes += bytes;
    resync.batch.MergeFrom(entries);
    resync.covers.emplace_back(t, t->sent);
  }
  std::vector<pb::Batch> out = resync.leading;
  out.push_back(resync.batch);
  inflight_.push_back(std::move(resync));
  return out;
}

size_t SessionState::OnAck(uint64_t sequence) {
  if (sequence > acked_sequence_) acked_sequence_ = sequence;
  size_t acked = 0;
  while (!inflight_.empty() && inflight_.front().batch.sequence() <= sequence) {
    Inflight& f = inflight_.front();
    for (auto& [t, values] : f.covers) t->acked = values;
    for (auto& t : f.releases) tracked_.erase(t->handle->id);
    inflight_.pop_front();
    ++acked;
  }
  batches_acked_ += acked;
  return acked;
}

bool SessionState::Idle() const {
  if (!inflight_.empty()) return false;
  for (const auto& [id, t] : tracked_) {
    if (Withheld(*t)) continue;
    if (!t->defined || t->releasing || t->handle->Load() != t->sent) return false;
  }
  return true;
}

}  // namespace internal
}  // namespace moq_stats
