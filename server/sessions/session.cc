#include "server/sessions/session.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "proto/counts_proto.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// One key per (handle, role) for the maps of the validation plan.
uint64_t Key(uint32_t handle, Role role) { return (uint64_t{handle} << 1) | static_cast<uint64_t>(role); }

std::string Describe(const Path& path, Tier tier) {
  return absl::StrCat("\"", path.str(), "\" (", std::string(TierName(tier)), ")");
}

absl::Status Reject(RejectReason* out, RejectReason reason, absl::Status status) {
  *out = reason;
  return status;
}

}  // namespace

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
  }
  return "unknown";
}

// What validation worked out, for Commit to apply without looking again.
struct Session::Plan {
  // Handles this batch defines anew.
  absl::flat_hash_map<uint32_t, Handle> defined;
  // Per delta: the existing handle it applies to, or null for a handle
  // defined by this batch (looked up once it is inserted). Stable because
  // Validate reserved room for the new handles first.
  std::vector<Handle*> targets;
  std::vector<Role> roles;
  // With resync: the guards open per (handle, role) after it.
  absl::flat_hash_map<uint64_t, OpenGuards> resync;
  // Room for the new handles' levels, held until they are created.
  Stats::LevelReservation room;
  // With resync and release_unlisted: the handles the batch defines.
  absl::flat_hash_set<uint32_t> kept;
};

Session::Session(std::string id, std::string relay, Stats stats, SessionLimits limits)
    : id_(std::move(id)), relay_(std::move(relay)), stats_(std::move(stats)), limits_(limits) {}

absl::Status Session::Apply(const pb::Batch& batch, RejectReason* reason, size_t* deltas) {
  Plan plan;
  RejectReason why = RejectReason::kNone;
  absl::Status status = Validate(batch, &plan, &why);
  if (reason) *reason = why;
  if (!status.ok()) return status;
  Commit(batch, plan);
  if (deltas) *deltas = static_cast<size_t>(batch.deltas_size());
  return absl::OkStatus();
}

absl::Status Session::Validate(const pb::Batch& batch, Plan* plan, RejectReason* reason) {
  if (batch.sequence() <= applied_sequence_) {
    return Reject(reason, RejectReason::kSequence,
                  absl::OutOfRangeError(absl::StrCat("batch sequence ", batch.sequence(),
                                                     " is not above the last applied sequence ", applied_sequence_)));
  }
  const uint64_t entries =
      uint64_t(batch.defines_size()) + batch.deltas_size() + batch.releases_size() + batch.open_size();
  // A resync states every live handle at once, so it may be as large as the
  // session's handles need: a define, two open entries and two deltas each.
  const uint64_t max_entries = batch.resync()
                                   ? std::max<uint64_t>(limits_.max_batch_entries, uint64_t{limits_.max_handles} * 5)
                                   : limits_.max_batch_entries;
  if (entries > max_entries) {
    return Reject(reason, RejectReason::kBatchSize,
                  absl::ResourceExhaustedError(absl::StrCat(
                      "batch ", batch.sequence(), " has ", entries, " entries; the limit is ", max_entries,
                      batch.resync() ? " for a resync (5 per handle, max_handles)" : " (max_batch_entries)")));
  }

  // Defines.
  auto find = [&](uint32_t handle) -> Handle* {
    if (auto it = handles_.find(handle); it != handles_.end()) return &it->second;
    if (auto it = plan->defined.find(handle); it != plan->defined.end()) return &it->second;
    return nullptr;
  };
  // With release_unlisted, only the handles this batch defines survive it.
  const bool release_unlisted = batch.resync() && batch.release_unlisted();
  if (release_unlisted) {
    for (const pb::Define& define : batch.defines()) plan->kept.insert(define.handle());
  }
  auto usable = [&](uint32_t handle) { return !release_unlisted || plan->kept.contains(handle); };
  for (int i = 0; i < batch.defines_size(); ++i) {
    const pb::Define& define = batch.defines(i);
    std::optional<Tier> tier = TierFromProto(define.tier());
    if (!tier) {
      return Reject(
          reason, RejectReason::kInvalidEnum,
          absl::InvalidArgumentError(absl::StrCat("defines[", i, "] (handle ", define.handle(),
                                                  "): tier is unspecified or unknown (", define.tier(), ")")));
    }
    if (absl::Status s = ValidatePath(define.path()); !s.ok()) {
      return Reject(
          reason, RejectReason::kInvalidPath,
          absl::InvalidArgumentError(absl::StrCat("defines[", i, "] (handle ", define.handle(), "): ", s.message())));
    }
    Path path(define.path());
    if (Handle* existing = find(define.handle())) {
      if (existing->path != path || existing->tier != *tier) {
        return Reject(
            reason, RejectReason::kRedefined,
            absl::FailedPreconditionError(absl::StrCat(
                "defines[", i, "]: handle ", define.handle(), " is already defined as ",
                Describe(existing->path, existing->tier), "; it cannot be redefined as ", Describe(path, *tier))));
      }
      continue;
    }
    if (handles_.size() + plan->defined.size() + 1 > limits_.max_handles) {
      return Reject(reason, RejectReason::kHandleLimit,
                    absl::ResourceExhaustedError(absl::StrCat("defines[", i, "] (handle ", define.handle(),
                                                              "): the session would hold more than ",
                                                              limits_.max_handles, " handles (max_handles)")));
    }
    plan->defined.emplace(define.handle(), Handle{std::move(path), *tier, BroadcastStats(), {}});
  }
  // The levels the new handles need must fit; they are created only in
  // Commit, so a refused batch leaves none behind.
  if (!plan->defined.empty()) {
    std::vector<Path> paths;
    paths.reserve(plan->defined.size());
    for (const auto& [id, handle] : plan->defined) paths.push_back(handle.path);
    absl::StatusOr<Stats::LevelReservation> room = stats_.ReserveLevels(paths);
    if (!room.ok()) {
      // Name the first define that does not fit.
      std::vector<Path> so_far;
      for (int i = 0; i < batch.defines_size(); ++i) {
        so_far.push_back(Path(batch.defines(i).path()));
        absl::StatusOr<Stats::LevelReservation> fits = stats_.ReserveLevels(so_far);
        if (fits.ok()) continue;
        return Reject(reason, RejectReason::kLevelLimit,
                      absl::ResourceExhaustedError(absl::StrCat("defines[", i, "] (handle ", batch.defines(i).handle(),
                                                                "): ", fits.status().message())));
      }
      return Reject(reason, RejectReason::kLevelLimit, room.status());
    }
    plan->room = *std::move(room);
  }

  // What is open per (handle, role) as the batch goes: after resync, then
  // after each delta.
  absl::flat_hash_map<uint64_t, OpenGuards> running;
  auto open_now = [&](uint32_t handle, Role role, const Handle& h) -> OpenGuards& {
    auto [it, inserted] = running.try_emplace(Key(handle, role));
    if (inserted) {
      if (batch.resync()) {
        auto t = plan->resync.find(Key(handle, role));
        it->second = t == plan->resync.end() ? OpenGuards{} : t->second;
      } else {
        it->second = h.open[static_cast<size_t>(role)];
      }
    }
    return it->second;
  };

  // Resync.
  if (!batch.resync() && batch.open_size() > 0) {
    return Reject(reason, RejectReason::kInvalidEnum,
                  absl::InvalidArgumentError(absl::StrCat("open[0] (handle ", batch.open(0).handle(),
                                                          "): open entries are only allowed with resync set")));
  }
  for (int i = 0; i < batch.open_size(); ++i) {
    const pb::OpenGuards& open = batch.open(i);
    std::optional<Role> role = RoleFromProto(open.role());
    if (!role) {
      return Reject(reason, RejectReason::kInvalidEnum,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "] (handle ", open.handle(),
                                                            "): role is unspecified or unknown (", open.role(), ")")));
    }
    if (!usable(open.handle()) || !find(open.handle())) {
      return Reject(reason, RejectReason::kUnknownHandle,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "]: unknown handle ", open.handle())));
    }
    if (!plan->resync.try_emplace(Key(open.handle(), *role), OpenGuards{open.broadcasts(), open.subscriptions()})
             .second) {
      return Reject(reason, RejectReason::kDuplicate,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "]: handle ", open.handle(), " role ",
                                                            std::string(RoleName(*role)), " is listed twice")));
    }
  }

  // Deltas.
  // Room for the new handles now, so that pointers taken below stay valid
  // when Commit inserts them.
  handles_.reserve(handles_.size() + plan->defined.size());
  plan->targets.reserve(batch.deltas_size());
  plan->roles.reserve(batch.deltas_size());
  for (int i = 0; i < batch.deltas_size(); ++i) {
    const pb::HandleDelta& delta = batch.deltas(i);
    std::optional<Role> role = RoleFromProto(delta.role());
    if (!role) {
      return Reject(reason, RejectReason::kInvalidEnum,
                    absl::InvalidArgumentError(absl::StrCat("deltas[", i, "] (handle ", delta.handle(),
                                                            "): role is unspecified or unknown (", delta.role(), ")")));
    }
    auto existing = usable(delta.handle()) ? handles_.find(delta.handle()) : handles_.end();
    Handle* h =
        existing != handles_.end() ? &existing->second : (usable(delta.handle()) ? find(delta.handle()) : nullptr);
    if (!h) {
      return Reject(reason, RejectReason::kUnknownHandle,
                    absl::InvalidArgumentError(absl::StrCat("deltas[", i, "]: unknown handle ", delta.handle())));
    }
    plan->targets.push_back(existing != handles_.end() ? h : nullptr);
    plan->roles.push_back(*role);
    if ((delta.broadcasts_opened() | delta.broadcasts_closed() | delta.subscriptions_opened() |
         delta.subscriptions_closed()) == 0) {
      continue;  // only sums: nothing opens or closes
    }
    OpenGuards& open = open_now(delta.handle(), *role, *h);
    struct Check {
      uint64_t* open;
      uint64_t opened;
      uint64_t closed;
      const char* what;
    } checks[] = {{&open.broadcasts, delta.broadcasts_opened(), delta.broadcasts_closed(), "broadcast"},
                  {&open.subscriptions, delta.subscriptions_opened(), delta.subscriptions_closed(), "subscription"}};
    for (const Check& c : checks) {
      if (c.opened > std::numeric_limits<uint64_t>::max() - *c.open) {
        return Reject(reason, RejectReason::kOverClose,
                      absl::InvalidArgumentError(absl::StrCat("deltas[", i, "] (handle ", delta.handle(), ", ",
                                                              std::string(RoleName(*role)), "): opening ", c.opened,
                                                              " more ", c.what, " guards overflows the count")));
      }
      uint64_t available = *c.open + c.opened;
      if (c.closed > available) {
        return Reject(reason, RejectReason::kOverClose,
                      absl::InvalidArgumentError(absl::StrCat("deltas[", i, "] (handle ", delta.handle(), ", ",
                                                              std::string(RoleName(*role)), "): closes ", c.closed, " ",
                                                              c.what, " guards but only ", available, " are open")));
      }
      *c.open = available - c.closed;
    }
  }

  // Releases.
  absl::flat_hash_map<uint32_t, bool> released;
  for (int i = 0; i < batch.releases_size(); ++i) {
    uint32_t handle = batch.releases(i);
    Handle* h = usable(handle) ? find(handle) : nullptr;
    if (!h) {
      return Reject(reason, RejectReason::kUnknownHandle,
                    absl::InvalidArgumentError(absl::StrCat("releases[", i, "]: unknown handle ", handle)));
    }
    if (!released.try_emplace(handle, true).second) {
      return Reject(
          reason, RejectReason::kDuplicate,
          absl::InvalidArgumentError(absl::StrCat("releases[", i, "]: handle ", handle, " is released twice")));
    }
    for (Role role : kRoles) {
      const OpenGuards& open = open_now(handle, role, *h);
      if (open.broadcasts != 0 || open.subscriptions != 0) {
        return Reject(reason, RejectReason::kReleaseOpen,
                      absl::InvalidArgumentError(absl::StrCat(
                          "releases[", i, "]: handle ", handle, " still has ", open.broadcasts, " broadcast and ",
                          open.subscriptions, " subscription guards open as ", std::string(RoleName(role)))));
      }
    }
  }
  return absl::OkStatus();
}

void Session::Commit(const pb::Batch& batch, Plan& plan) {
  for (auto& [id, handle] : plan.defined) {
    handle.stats = stats_.tier(handle.tier).broadcast(handle.path.str());
    handles_.emplace(id, std::move(handle));
  }
  if (batch.resync()) {
    for (auto& [id, handle] : handles_) {
      for (Role role : kRoles) {
        auto target = plan.resync.find(Key(id, role));
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
  handle.stats.Apply(role, delta);
  open = target;
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
  }
}

absl::StatusOr<std::unique_ptr<Session>> Session::Restore(const pb::CheckpointSession& saved, Stats stats,
                                                          SessionLimits limits) {
  auto session = std::make_unique<Session>(saved.session_id(), saved.relay(), stats, limits);
  session->applied_sequence_ = saved.applied_sequence();
  for (const pb::CheckpointHandle& h : saved.handles()) {
    std::optional<Tier> tier = TierFromProto(h.tier());
    absl::Status path_ok = ValidatePath(h.path());
    if (!tier || !path_ok.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint session \"", saved.session_id(), "\" handle ", h.handle(),
                                              ": ", tier ? path_ok.message() : "bad tier"));
    }
    Handle handle{Path(h.path()), *tier, stats.tier(*tier).broadcast(h.path()), {}};
    handle.open[static_cast<size_t>(Role::kPublisher)] = {h.publisher_broadcasts(), h.publisher_subscriptions()};
    handle.open[static_cast<size_t>(Role::kSubscriber)] = {h.subscriber_broadcasts(), h.subscriber_subscriptions()};
    if (!session->handles_.emplace(h.handle(), std::move(handle)).second) {
      return absl::DataLossError(
          absl::StrCat("checkpoint session \"", saved.session_id(), "\" lists handle ", h.handle(), " twice"));
    }
  }
  return session;
}

}  // namespace moq_stats::server
