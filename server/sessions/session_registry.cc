#include "server/sessions/session_registry.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/tier_label.h"
#include "proto/counts_proto.h"
#include "server/sessions/checkpoint_counts.h"
#include "server/sessions/session_eviction.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

constexpr size_t kMaxSessionIdBytes = 128;
constexpr size_t kMaxRelayNameBytes = 256;
constexpr uint32_t kCheckpointFormat = 1;

}  // namespace

std::shared_ptr<SessionRegistry> SessionRegistry::Create(Stats stats, Scheduler* scheduler, const Clock* clock,
                                                         SessionRegistryOptions options) {
  return std::shared_ptr<SessionRegistry>(new SessionRegistry(std::move(stats), scheduler, clock, options));
}

SessionRegistry::SessionRegistry(Stats stats, Scheduler* scheduler, const Clock* clock, SessionRegistryOptions options)
    : stats_(std::move(stats)),
      scheduler_(scheduler),
      clock_(clock),
      options_(options),
      ended_(options.remember_expired, options.max_remembered) {}

absl::StatusOr<SessionRegistry::Attached> SessionRegistry::Attach(std::string_view id, std::string_view relay,
                                                                  LostFn on_lost) {
  if (id.empty() || id.size() > kMaxSessionIdBytes || !IsValidUtf8(id)) {
    return absl::InvalidArgumentError(absl::StrCat("open.session_id must be 1 to ", kMaxSessionIdBytes,
                                                   " bytes of UTF-8; got ", id.size(), " bytes"));
  }
  if (relay.size() > kMaxRelayNameBytes || !IsValidUtf8(relay)) {
    return absl::InvalidArgumentError(absl::StrCat("open.relay must be at most ", kMaxRelayNameBytes,
                                                   " bytes of UTF-8; got ", relay.size(), " bytes",
                                                   IsValidUtf8(relay) ? "" : " that are not UTF-8"));
  }
  if (draining()) return absl::UnavailableError("the sidecar is shutting down; reconnect to its successor");
  Attached result;
  LostFn taken_over;
  Evicted evicted;
  {
    // An eviction closes guards: not in the middle of a Capture.
    absl::ReaderMutexLock apply_lock(&apply_mu_);
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = clock_->Now();
      auto it = sessions_.find(std::string(id));
      bool created = false;
      if (it == sessions_.end()) {
        if (sessions_.size() >= options_.max_sessions && !EvictLocked(&evicted)) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the sidecar holds ", sessions_.size(), " sessions, the limit max_sessions=", options_.max_sessions,
              ", each of them active within the last ", absl::FormatDuration(options_.idle_eviction), "; retry later"));
        }
        result.expired_applied_sequence = ended_.Find(id, now).value_or(0);
        auto session = std::make_unique<Session>(std::string(id), std::string(relay), stats_, options_.limits);
        it = sessions_.emplace(std::string(id), std::make_shared<Entry>(std::string(id), std::move(session))).first;
        created = true;
      }
      Entry& entry = *it->second;
      absl::MutexLock entry_lock(&entry.mu);
      if (entry.stream != 0) {
        taken_over = std::move(entry.on_lost);
        taken_over_.fetch_add(1, std::memory_order_relaxed);
      } else {
        attached_.fetch_add(1, std::memory_order_relaxed);
      }
      // Resync parts of an older stream are never completed by this one.
      DropPending(*entry.session);
      entry.stream = next_stream_++;
      entry.on_lost = std::move(on_lost);
      entry.last_active = now;
      ++entry.detach_epoch;  // cancels a pending grace expiry
      result.attachment = Attachment(it->second, entry.stream);
      result.resumed = !created;
      result.applied_sequence = entry.session->applied_sequence();
      (created ? created_ : resumed_).fetch_add(1, std::memory_order_relaxed);
    }
    if (evicted.session) {
      // One that held nothing is an idle or hostile stream's: not worth a
      // line each.
      auto open = evicted.session->open_guards();
      const std::string line =
          absl::StrCat(evicted.why.message(), " (relay \"", LogSafe(evicted.session->relay()),
                       "\"; guards it held: ", open[0].broadcasts + open[1].broadcasts, " broadcast, ",
                       open[0].subscriptions + open[1].subscriptions, " subscription)");
      if (evicted.session->applied_sequence() == 0) {
        MOQSTATS_LOG(DEBUG) << line;
      } else {
        MOQSTATS_LOG(INFO) << line;
      }
      evicted.session->CloseAll();
    }
  }
  if (evicted.on_lost) evicted.on_lost(evicted.why);
  if (taken_over) {
    taken_over(absl::AbortedError("session taken over by a newer stream with the same session_id"));
  }
  return result;
}

bool SessionRegistry::EvictLocked(Evicted* evicted) {
  const absl::Time now = clock_->Now();
  // One pass over every session, at most max_sessions of them, and only
  // when a new one arrives at the limit.
  std::vector<std::shared_ptr<Entry>> entries;
  std::vector<EvictionCandidate> candidates;
  entries.reserve(sessions_.size());
  candidates.reserve(sessions_.size());
  for (const auto& [id, entry] : sessions_) {
    absl::MutexLock entry_lock(&entry->mu);
    if (!entry->session) continue;
    entries.push_back(entry);
    candidates.push_back(
        EvictionCandidate{entry->stream != 0, entry->session->applied_sequence() == 0, entry->last_active});
  }
  std::optional<size_t> chosen = ChooseEviction(candidates, now, options_.idle_eviction);
  if (!chosen) return false;
  // Held until the entry's lock is released: the map's reference may be
  // the last.
  std::shared_ptr<Entry> victim = entries[*chosen];
  {
    absl::MutexLock entry_lock(&victim->mu);
    const EvictionCandidate& c = candidates[*chosen];
    evicted->why = absl::ResourceExhaustedError(absl::StrCat(
        "session \"", LogSafe(victim->id),
        "\" evicted to make room for a new one (max_sessions=", options_.max_sessions, "): ",
        c.holds_nothing ? "it had applied no batch"
                        : absl::StrCat(c.attached ? "its stream sent nothing for " : "it was detached for ",
                                       absl::FormatDuration(now - c.last_active), "; its guards were closed"),
        "; reconnect"));
    DropPending(*victim->session);
    if (victim->session->applied_sequence() > 0) ended_.Remember(victim->id, victim->session->applied_sequence(), now);
    evicted->session = std::move(victim->session);
    if (victim->stream != 0) {
      evicted->on_lost = std::move(victim->on_lost);
      victim->stream = 0;
      attached_.fetch_sub(1, std::memory_order_relaxed);
    }
    victim->on_lost = nullptr;
    victim->gone = true;
    sessions_.erase(victim->id);
  }
  evicted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

absl::Status SessionRegistry::Apply(const Attachment& attachment, const pb::Batch& batch, bool* held) {
  if (held) *held = false;
  absl::ReaderMutexLock apply_lock(&apply_mu_);
  if (draining()) {
    CountReject(RejectReason::kDraining);
    return absl::UnavailableError("the sidecar is shutting down; the batch was not applied, resend it");
  }
  Entry& entry = *attachment.entry_;
  absl::MutexLock lock(&entry.mu);
  if (entry.stream != attachment.stream_ || !entry.session) {
    CountReject(RejectReason::kTakenOver);
    return absl::AbortedError(absl::StrCat("session \"", entry.id, "\" is carried by a newer stream or was evicted"));
  }
  Session& session = *entry.session;
  if (batch.resync_continues()) {
    const size_t part = batch.ByteSizeLong();
    if (pending_resync_bytes_.load(std::memory_order_relaxed) + part > options_.max_pending_resync_bytes) {
      DropPending(session);
      CountReject(RejectReason::kResyncMemory);
      absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
          "resync ", batch.sequence(), " of session \"", LogSafe(entry.id),
          "\": the resync parts held over every session would ", "pass ", options_.max_pending_resync_bytes,
          " bytes; the parts received were dropped, resync again later"));
      MOQSTATS_LOG(WARNING) << status.message();
      return status;
    }
  }
  RejectReason reason = RejectReason::kNone;
  size_t deltas = 0;
  bool part_held = false;
  const size_t pending_before = session.pending_resync_bytes();
  absl::Status status = session.Apply(batch, &reason, &deltas, &part_held);
  const size_t pending_after = session.pending_resync_bytes();
  if (pending_after >= pending_before) {
    pending_resync_bytes_.fetch_add(pending_after - pending_before, std::memory_order_relaxed);
  } else {
    pending_resync_bytes_.fetch_sub(pending_before - pending_after, std::memory_order_relaxed);
  }
  if (held) *held = part_held;
  if (!status.ok()) {
    CountReject(reason);
    if (reason == RejectReason::kTierLimit) {
      if (const uint64_t refused = tier_limit_log_.Refused(clock_->Now()); refused > 0) {
        MOQSTATS_LOG(WARNING) << refused << " batch(es) refused at the tier caps since the last such line; the latest, "
                              << "of session \"" << LogSafe(entry.id) << "\": " << LogSafe(status.ToString());
      }
    }
    if (batch.resync()) {
      // A refused resync leaves the relay's guards unrepaired until it
      // resyncs again: worth a line, unlike a refused ordinary batch.
      MOQSTATS_LOG(WARNING) << "resync " << batch.sequence() << " of session \"" << LogSafe(entry.id)
                            << "\" refused: " << LogSafe(status.ToString());
    }
    return status;
  }
  entry.last_active = clock_->Now();
  if (part_held) {
    resync_parts_held_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  batches_applied_.fetch_add(1, std::memory_order_relaxed);
  deltas_applied_.fetch_add(deltas, std::memory_order_relaxed);
  return absl::OkStatus();
}

void SessionRegistry::Detach(const Attachment& attachment) {
  Entry& entry = *attachment.entry_;
  absl::MutexLock lock(&entry.mu);
  if (entry.stream != attachment.stream_ || entry.gone) return;
  entry.stream = 0;
  entry.on_lost = nullptr;
  attached_.fetch_sub(1, std::memory_order_relaxed);
  // A resync whose last part did not arrive applies nothing.
  if (entry.session) DropPending(*entry.session);
  StartGraceLocked(entry);
}

void SessionRegistry::StartGraceLocked(Entry& entry) {
  uint64_t epoch = ++entry.detach_epoch;
  entry.last_active = clock_->Now();
  scheduler_->ScheduleAt(clock_->Now() + options_.grace, [weak = weak_from_this(), id = entry.id, epoch] {
    if (auto registry = weak.lock()) registry->Expire(id, epoch);
  });
}

void SessionRegistry::Expire(const std::string& id, uint64_t epoch) {
  // Closing guards changes counters: not in the middle of a Capture.
  absl::ReaderMutexLock apply_lock(&apply_mu_);
  std::unique_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    // Held until the entry's lock is released: the map's reference may be
    // the last.
    std::shared_ptr<Entry> held = it->second;
    Entry& entry = *held;
    absl::MutexLock entry_lock(&entry.mu);
    if (entry.stream != 0 || entry.detach_epoch != epoch) return;  // resumed since
    DropPending(*entry.session);
    if (entry.session->applied_sequence() > 0) {
      ended_.Remember(entry.id, entry.session->applied_sequence(), clock_->Now());
    }
    session = std::move(entry.session);
    entry.gone = true;
    sessions_.erase(it);
  }
  auto open = session->open_guards();
  MOQSTATS_LOG(INFO) << "session \"" << LogSafe(id) << "\" (relay \"" << LogSafe(session->relay())
                     << "\") was not resumed within the grace period; closing the guards it held: "
                     << open[0].broadcasts + open[1].broadcasts << " broadcast, "
                     << open[0].subscriptions + open[1].subscriptions << " subscription";
  session->CloseAll();
  expired_.fetch_add(1, std::memory_order_relaxed);
}

void SessionRegistry::Close(const Attachment& attachment) {
  absl::ReaderMutexLock apply_lock(&apply_mu_);
  std::unique_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = *attachment.entry_;
    absl::MutexLock entry_lock(&entry.mu);
    if (entry.stream != attachment.stream_ || entry.gone) return;
    DropPending(*entry.session);
    session = std::move(entry.session);
    entry.gone = true;
    entry.stream = 0;
    entry.on_lost = nullptr;
    attached_.fetch_sub(1, std::memory_order_relaxed);
    sessions_.erase(entry.id);
    ended_.Forget(entry.id);  // the relay is done with the id
  }
  session->CloseAll();
  closed_.fetch_add(1, std::memory_order_relaxed);
}

void SessionRegistry::Drain() {
  absl::MutexLock apply_lock(&apply_mu_);
  draining_.store(true, std::memory_order_release);
}

pb::Checkpoint SessionRegistry::Capture(int64_t taken_unix_ms) const {
  absl::MutexLock apply_lock(&apply_mu_);
  pb::Checkpoint checkpoint;
  checkpoint.set_format(kCheckpointFormat);
  checkpoint.set_taken_unix_ms(taken_unix_ms);
  std::optional<Path> after;
  for (;;) {
    auto page = stats_.ListLevels(Path(), after, 4096);
    if (page.empty()) break;
    for (const auto& level : page) {
      pb::CheckpointLevel* out = checkpoint.add_levels();
      out->set_key(level->key().str());
      out->set_created_unix_ms(static_cast<uint64_t>(level->created_unix_ms()));
      CountsToProto(level->snapshot(Tier::kExternal, Role::kPublisher), out->mutable_external_publisher());
      CountsToProto(level->snapshot(Tier::kExternal, Role::kSubscriber), out->mutable_external_subscriber());
      CountsToProto(level->snapshot(Tier::kInternal, Role::kPublisher), out->mutable_internal_publisher());
      CountsToProto(level->snapshot(Tier::kInternal, Role::kSubscriber), out->mutable_internal_subscriber());
    }
    after = page.back()->key();
  }
  if (const std::shared_ptr<PathTable>& paths = stats_.paths()) {
    for (const PathReport& report : paths->Snapshot()) {
      const moq_stats::Counts& publisher = report.roles[static_cast<size_t>(Role::kPublisher)];
      const moq_stats::Counts& subscriber = report.roles[static_cast<size_t>(Role::kSubscriber)];
      if (publisher.empty() && subscriber.empty()) continue;  // nothing to restore
      pb::CheckpointPath* out = checkpoint.add_paths();
      out->set_path(report.path.str());
      out->set_tier_label(report.tier);
      CountsToProto(publisher, out->mutable_publisher());
      CountsToProto(subscriber, out->mutable_subscriber());
    }
  }
  if (const std::shared_ptr<PresenceTable>& presence = stats_.presence()) {
    for (const PresenceReport& report : presence->Snapshot()) {
      if (report.counts == Presence{}) continue;  // nothing to restore
      pb::CheckpointPresence* out = checkpoint.add_presence();
      out->set_tier_label(report.tier);
      out->set_root(report.root);
      out->set_sessions(report.counts.sessions);
      out->set_sessions_closed(report.counts.sessions_closed);
    }
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [id, entry] : sessions_) {
    absl::MutexLock entry_lock(&entry->mu);
    if (entry->session) entry->session->SaveTo(checkpoint.add_sessions());
  }
  ended_.SaveTo(&checkpoint);
  return checkpoint;
}

absl::Status SessionRegistry::Restore(const pb::Checkpoint& checkpoint) {
  if (checkpoint.format() != kCheckpointFormat) {
    return absl::DataLossError(absl::StrCat("checkpoint format ", checkpoint.format(), " is not ", kCheckpointFormat));
  }
  // Counts that break the invariants are refused whole, before anything is
  // restored: a corrupt file that happens to parse.
  if (absl::Status s = CheckCheckpointCounts(checkpoint, stats_); !s.ok()) return s;
  absl::MutexLock apply_lock(&apply_mu_);
  absl::Status first_error;
  for (const pb::CheckpointLevel& level : checkpoint.levels()) {
    if (absl::Status s = ValidatePath(level.key()); !s.ok()) {
      if (first_error.ok()) first_error = absl::DataLossError(absl::StrCat("checkpoint level: ", s.message()));
      continue;
    }
    stats_.RestoreLevel(
        Path(level.key()),
        {CountsFromProto(level.external_publisher()), CountsFromProto(level.external_subscriber()),
         CountsFromProto(level.internal_publisher()), CountsFromProto(level.internal_subscriber())},
        // A time past int64 is not one we wrote: the restart's time instead.
        level.created_unix_ms() <= uint64_t{INT64_MAX} ? static_cast<int64_t>(level.created_unix_ms()) : 0);
  }
  // Path counters, held until the restored sessions hold their own handles:
  // a path no session holds is then let go, and the node format shows its
  // final counts once.
  std::vector<std::shared_ptr<PathEntry>> paths;
  if (const std::shared_ptr<PathTable>& table = stats_.paths()) {
    for (const pb::CheckpointPath& saved : checkpoint.paths()) {
      absl::StatusOr<std::string> label = NormalizeTierLabel(saved.tier_label());
      absl::Status path_ok = ValidatePath(saved.path());
      if (!label.ok() || !path_ok.ok()) {
        if (first_error.ok()) {
          first_error = absl::DataLossError(
              absl::StrCat("checkpoint path: ", !label.ok() ? label.status().message() : path_ok.message()));
        }
        continue;
      }
      std::shared_ptr<PathEntry> entry = table->Acquire(*label, Path(saved.path()));
      entry->counters(Role::kPublisher).Add(CountsFromProto(saved.publisher()));
      entry->counters(Role::kSubscriber).Add(CountsFromProto(saved.subscriber()));
      entry->MarkChanged();
      paths.push_back(std::move(entry));
    }
    if (checkpoint.paths().empty()) ReopenHeldGuards(checkpoint, *table, &paths);
  }
  // Presence counters likewise; without them (an older checkpoint) the
  // restored sessions' open sessions count again.
  std::vector<std::shared_ptr<PresenceEntry>> roots;
  if (const std::shared_ptr<PresenceTable>& table = stats_.presence()) {
    for (const pb::CheckpointPresence& saved : checkpoint.presence()) {
      absl::StatusOr<std::string> label = NormalizeTierLabel(saved.tier_label());
      if (!label.ok() || !ValidatePath(saved.root()).ok()) {
        if (first_error.ok()) {
          first_error = absl::DataLossError(absl::StrCat("checkpoint presence of \"", saved.root(), "\" in tier \"",
                                                         saved.tier_label(), "\" is not valid"));
        }
        continue;
      }
      std::shared_ptr<PresenceEntry> entry = table->Acquire(*label, Path(saved.root()).str());
      entry->Open(saved.sessions());
      entry->Close(saved.sessions_closed());
      roots.push_back(std::move(entry));
    }
  }
  const bool reopen_presence = checkpoint.presence().empty();
  absl::MutexLock lock(&mu_);
  for (const pb::CheckpointSession& saved : checkpoint.sessions()) {
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::Restore(saved, stats_, options_.limits, reopen_presence);
    if (!session.ok()) {
      if (first_error.ok()) first_error = session.status();
      continue;
    }
    auto entry = std::make_shared<Entry>(saved.session_id(), *std::move(session));
    if (!sessions_.emplace(saved.session_id(), entry).second) {
      if (first_error.ok()) {
        first_error = absl::DataLossError(absl::StrCat("checkpoint lists session \"", saved.session_id(), "\" twice"));
      }
      continue;
    }
    absl::MutexLock entry_lock(&entry->mu);
    StartGraceLocked(*entry);
  }
  ended_.Restore(checkpoint, clock_->Now());
  return first_error;
}

void SessionRegistry::ReopenHeldGuards(const pb::Checkpoint& checkpoint, PathTable& table,
                                       std::vector<std::shared_ptr<PathEntry>>* held) const {
  std::set<std::string> seen;
  for (const pb::CheckpointSession& saved : checkpoint.sessions()) {
    if (!seen.insert(saved.session_id()).second) continue;  // Restore skips it
    for (const pb::CheckpointHandle& h : saved.handles()) {
      const std::optional<Tier> tier = TierFromProto(h.tier());
      absl::StatusOr<std::string> label = NormalizeTierLabel(h.tier_label());
      if (h.presence() || !tier || !label.ok() || !ValidatePath(h.path()).ok()) continue;
      const Path path(h.path());
      if (path.has_prefix(stats_.prefix())) continue;
      std::array<moq_stats::Counts, 2> open{};
      open[static_cast<size_t>(Role::kPublisher)].broadcasts = h.publisher_broadcasts();
      open[static_cast<size_t>(Role::kPublisher)].subscriptions = h.publisher_subscriptions();
      open[static_cast<size_t>(Role::kPublisher)].announced = h.publisher_announced();
      open[static_cast<size_t>(Role::kSubscriber)].broadcasts = h.subscriber_broadcasts();
      open[static_cast<size_t>(Role::kSubscriber)].subscriptions = h.subscriber_subscriptions();
      open[static_cast<size_t>(Role::kSubscriber)].announced = h.subscriber_announced();
      if (open[0].empty() && open[1].empty()) continue;
      std::shared_ptr<PathEntry> entry = table.Acquire(label->empty() ? TierLabelOf(*tier) : *label, path);
      for (Role role : kRoles) entry->counters(role).Add(open[static_cast<size_t>(role)]);
      entry->MarkChanged();
      held->push_back(std::move(entry));
    }
  }
}

SessionRegistry::Counts SessionRegistry::counts() const {
  Counts c;
  {
    absl::MutexLock lock(&mu_);
    c.known = sessions_.size();
    c.remembered = ended_.size();
  }
  c.attached = attached_.load(std::memory_order_relaxed);
  c.created = created_.load(std::memory_order_relaxed);
  c.resumed = resumed_.load(std::memory_order_relaxed);
  c.taken_over = taken_over_.load(std::memory_order_relaxed);
  c.expired = expired_.load(std::memory_order_relaxed);
  c.evicted = evicted_.load(std::memory_order_relaxed);
  c.closed = closed_.load(std::memory_order_relaxed);
  c.batches_applied = batches_applied_.load(std::memory_order_relaxed);
  c.deltas_applied = deltas_applied_.load(std::memory_order_relaxed);
  c.resync_parts_held = resync_parts_held_.load(std::memory_order_relaxed);
  c.pending_resync_bytes = pending_resync_bytes_.load(std::memory_order_relaxed);
  for (int i = 0; i < kRejectReasonCount; ++i) c.rejected[i] = rejected_[i].load(std::memory_order_relaxed);
  return c;
}

absl::StatusOr<std::array<Session::OpenGuards, 2>> SessionRegistry::OpenGuards(std::string_view id) const {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat("no session \"", std::string(id), "\""));
  absl::MutexLock entry_lock(&it->second->mu);
  return it->second->session->open_guards();
}

void SessionRegistry::DropPending(Session& session) {
  pending_resync_bytes_.fetch_sub(session.pending_resync_bytes(), std::memory_order_relaxed);
  session.DropPendingResync();
}

void SessionRegistry::CountReject(RejectReason reason) {
  rejected_[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace moq_stats::server
