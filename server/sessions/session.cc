#include "server/sessions/session.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/counts_proto.h"
#include "server/sessions/internal/session_validation.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone:
      return "none";
    case RejectReason::kSequence:
      return "sequence";
    case RejectReason::kBatchSize:
      return "batch_size";
    case RejectReason::kHandleLimit:
      return "handle_limit";
    case RejectReason::kLevelLimit:
      return "level_limit";
    case RejectReason::kUnknownHandle:
      return "unknown_handle";
    case RejectReason::kInvalidPath:
      return "invalid_path";
    case RejectReason::kInvalidEnum:
      return "invalid_enum";
    case RejectReason::kRedefined:
      return "redefined";
    case RejectReason::kOverClose:
      return "over_close";
    case RejectReason::kReleaseOpen:
      return "release_open";
    case RejectReason::kDuplicate:
      return "duplicate";
    case RejectReason::kDraining:
      return "draining";
    case RejectReason::kTakenOver:
      return "taken_over";
    case RejectReason::kResyncPart:
      return "resync_part";
    case RejectReason::kResyncMemory:
      return "resync_memory";
    case RejectReason::kCounterWrap:
      return "counter_wrap";
    case RejectReason::kTierLimit:
      return "tier_limit";
  }
  return "unknown";
}

Session::Session(std::string id, std::string relay, Stats stats, SessionLimits limits)
    : id_(std::move(id)), relay_(std::move(relay)), stats_(std::move(stats)), limits_(limits) {}

absl::Status Session::Apply(const pb::Batch& batch, RejectReason* reason, size_t* deltas, bool* held) {
  if (held) *held = false;
  if (pending_ || batch.resync_continues()) return ApplyPart(batch, reason, deltas, held);
  return ApplyWhole(batch, reason, deltas);
}

void Session::DropPendingResync() {
  pending_.reset();
  pending_bytes_ = 0;
}

absl::Status Session::ApplyPart(const pb::Batch& batch, RejectReason* reason, size_t* deltas, bool* held) {
  auto refuse = [&](RejectReason why, absl::Status status) {
    DropPendingResync();
    if (reason) *reason = why;
    return status;
  };
  if (pending_ && (batch.sequence() != pending_->sequence() || !batch.resync())) {
    const uint64_t sequence = pending_->sequence();
    return refuse(RejectReason::kResyncPart,
                  absl::InvalidArgumentError(absl::StrCat("batch ", batch.sequence(), " came before the last part of ",
                                                          "the resync of sequence ", sequence,
                                                          "; the parts received were dropped")));
  }
  if (!pending_) {
    if (!batch.resync()) {
      return refuse(RejectReason::kResyncPart,
                    absl::InvalidArgumentError(absl::StrCat("batch ", batch.sequence(),
                                                            ": resync_continues is only allowed with resync set")));
    }
    if (batch.sequence() <= applied_sequence_) {
      return refuse(RejectReason::kSequence,
                    absl::OutOfRangeError(absl::StrCat("batch sequence ", batch.sequence(),
                                                       " is not above the last applied sequence ", applied_sequence_)));
    }
    pending_ = std::make_unique<pb::Batch>();
    pending_->set_sequence(batch.sequence());
    pending_->set_resync(true);
    pending_->set_release_unlisted(batch.release_unlisted());
  }
  pending_bytes_ += batch.ByteSizeLong();
  pending_->mutable_defines()->MergeFrom(batch.defines());
  pending_->mutable_deltas()->MergeFrom(batch.deltas());
  pending_->mutable_releases()->MergeFrom(batch.releases());
  pending_->mutable_open()->MergeFrom(batch.open());
  const uint64_t entries =
      uint64_t(pending_->defines_size()) + pending_->deltas_size() + pending_->releases_size() + pending_->open_size();
  const uint64_t max_entries = std::max<uint64_t>(limits_.max_batch_entries, uint64_t{limits_.max_handles} * 5);
  if (entries > max_entries) {
    return refuse(RejectReason::kBatchSize,
                  absl::ResourceExhaustedError(absl::StrCat("resync ", batch.sequence(), " has ", entries,
                                                            " entries in the parts received so far; the limit is ",
                                                            max_entries, " for a resync (5 per handle, max_handles)")));
  }
  if (batch.resync_continues()) {
    if (held) *held = true;
    return absl::OkStatus();
  }
  std::unique_ptr<pb::Batch> whole = std::move(pending_);
  DropPendingResync();
  return ApplyWhole(*whole, reason, deltas);
}

absl::Status Session::ApplyWhole(const pb::Batch& batch, RejectReason* reason, size_t* deltas) {
  Plan plan;
  RejectReason why = RejectReason::kNone;
  absl::Status status = Validation(*this, batch, plan).Run(&why);
  if (reason) *reason = why;
  if (!status.ok()) return status;
  Commit(batch, plan);
  if (deltas) *deltas = static_cast<size_t>(batch.deltas_size());
  return absl::OkStatus();
}

void Session::Commit(const pb::Batch& batch, Plan& plan) {
  for (auto& [id, handle] : plan.defined) {
    Acquire(stats_, handle);
    handles_.emplace(id, std::move(handle));
  }
  if (batch.resync()) {
    for (auto& [id, handle] : handles_) {
      for (Role role : kRoles) {
        auto target = plan.resync.find(internal::GuardKey(id, role));
        MoveTo(handle, role, target == plan.resync.end() ? OpenGuards{} : target->second);
      }
    }
    if (batch.release_unlisted()) {
      // Their guards were just closed; nothing else in the batch names them.
      absl::erase_if(handles_, [&plan](const auto& entry) { return !plan.kept.contains(entry.first); });
    }
  }
  for (int i = 0; i < batch.deltas_size(); ++i) {
    const pb::HandleDelta& d = batch.deltas(i);
    Handle* handle = plan.targets[i] ? plan.targets[i] : &handles_.find(d.handle())->second;
    Role role = plan.roles[i];
    handle->stats.Apply(role, CountsFromDelta(d));
    OpenGuards& open = handle->open[static_cast<size_t>(role)];
    open.broadcasts += d.broadcasts_opened() - d.broadcasts_closed();
    open.subscriptions += d.subscriptions_opened() - d.subscriptions_closed();
    open.announced += d.announced_opened() - d.announced_closed();
    if (handle->sessions) {
      handle->sessions->Open(d.sessions_opened());
      handle->sessions->Close(d.sessions_closed());
    }
    open.sessions += d.sessions_opened() - d.sessions_closed();
  }
  for (uint32_t handle : batch.releases()) handles_.erase(handle);
  applied_sequence_ = batch.sequence();
}

void Session::MoveTo(Handle& handle, Role role, const OpenGuards& target) {
  OpenGuards& open = handle.open[static_cast<size_t>(role)];
  Counts delta;
  if (target.broadcasts >= open.broadcasts) {
    delta.broadcasts = target.broadcasts - open.broadcasts;
  } else {
    delta.broadcasts_closed = open.broadcasts - target.broadcasts;
  }
  if (target.subscriptions >= open.subscriptions) {
    delta.subscriptions = target.subscriptions - open.subscriptions;
  } else {
    delta.subscriptions_closed = open.subscriptions - target.subscriptions;
  }
  if (target.announced >= open.announced) {
    delta.announced = target.announced - open.announced;
  } else {
    delta.announced_closed = open.announced - target.announced;
  }
  handle.stats.Apply(role, delta);
  if (handle.sessions) {
    if (target.sessions >= open.sessions) {
      handle.sessions->Open(target.sessions - open.sessions);
    } else {
      handle.sessions->Close(open.sessions - target.sessions);
    }
  }
  open = target;
}

void Session::Acquire(const Stats& stats, Handle& handle) {
  if (handle.presence) {
    if (const std::shared_ptr<PresenceTable>& table = stats.presence()) {
      handle.sessions = table->Acquire(handle.label, handle.path.str());
    }
  } else {
    handle.stats = stats.tier(handle.label).broadcast(handle.path.str());
  }
}

void Session::CloseAll() {
  for (auto& [id, handle] : handles_) {
    for (Role role : kRoles) MoveTo(handle, role, OpenGuards{});
  }
  handles_.clear();
}

std::array<Session::OpenGuards, 2> Session::open_guards() const {
  std::array<OpenGuards, 2> total{};
  for (const auto& [id, handle] : handles_) {
    for (size_t r = 0; r < 2; ++r) {
      total[r].broadcasts += handle.open[r].broadcasts;
      total[r].subscriptions += handle.open[r].subscriptions;
      total[r].announced += handle.open[r].announced;
      total[r].sessions += handle.open[r].sessions;
    }
  }
  return total;
}

void Session::SaveTo(pb::CheckpointSession* out) const {
  out->set_session_id(id_);
  out->set_relay(relay_);
  out->set_applied_sequence(applied_sequence_);
  for (const auto& [id, handle] : handles_) {
    pb::CheckpointHandle* h = out->add_handles();
    h->set_handle(id);
    h->set_path(handle.path.str());
    h->set_tier(TierToProto(handle.tier));
    const auto& pub = handle.open[static_cast<size_t>(Role::kPublisher)];
    const auto& sub = handle.open[static_cast<size_t>(Role::kSubscriber)];
    h->set_publisher_broadcasts(pub.broadcasts);
    h->set_publisher_subscriptions(pub.subscriptions);
    h->set_subscriber_broadcasts(sub.broadcasts);
    h->set_subscriber_subscriptions(sub.subscriptions);
    h->set_publisher_announced(pub.announced);
    h->set_subscriber_announced(sub.announced);
    h->set_publisher_sessions(pub.sessions);
    if (IsNamedTier(handle.label)) h->set_tier_label(handle.label);
    h->set_presence(handle.presence);
  }
}

absl::StatusOr<std::unique_ptr<Session>> Session::Restore(const pb::CheckpointSession& saved, Stats stats,
                                                          SessionLimits limits, bool reopen_presence) {
  auto session = std::make_unique<Session>(saved.session_id(), saved.relay(), stats, limits);
  session->applied_sequence_ = saved.applied_sequence();
  for (const pb::CheckpointHandle& h : saved.handles()) {
    std::optional<Tier> tier = TierFromProto(h.tier());
    absl::Status path_ok = ValidatePath(h.path());
    absl::StatusOr<std::string> label = NormalizeTierLabel(h.tier_label());
    if (!tier || !path_ok.ok() || !label.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint session \"", saved.session_id(), "\" handle ", h.handle(),
                                              ": ",
                                              !tier           ? "bad tier"
                                              : !path_ok.ok() ? path_ok.message()
                                                              : label.status().message()));
    }
    Handle handle{Path(h.path()), *tier, {}, {}, label->empty() ? TierLabelOf(*tier) : *label, h.presence(), {}};
    Acquire(stats, handle);
    handle.open[static_cast<size_t>(Role::kPublisher)] = {h.publisher_broadcasts(), h.publisher_subscriptions(),
                                                          h.publisher_announced(), h.publisher_sessions()};
    handle.open[static_cast<size_t>(Role::kSubscriber)] = {h.subscriber_broadcasts(), h.subscriber_subscriptions(),
                                                           h.subscriber_announced()};
    // Without restored presence counters (a checkpoint that predates them)
    // the open sessions count again, and grace closes them as it would have.
    if (handle.sessions && reopen_presence) handle.sessions->Open(h.publisher_sessions());
    if (!session->handles_.emplace(h.handle(), std::move(handle)).second) {
      return absl::DataLossError(
          absl::StrCat("checkpoint session \"", saved.session_id(), "\" lists handle ", h.handle(), " twice"));
    }
  }
  return session;
}

}  // namespace moq_stats::server
