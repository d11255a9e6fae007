// The rules of the batch contract, as Session::Validation checks them.

#include "server/sessions/internal/session_validation.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tier_label.h"
#include "proto/counts_proto.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// "deltas[i] (handle H, role): ", the start of a refusal of a delta's counts.
std::string DeltaEntry(int i, uint32_t handle, Role role) {
  return absl::StrCat("deltas[", i, "] (handle ", handle, ", ", std::string(RoleName(role)), "): ");
}

}  // namespace

Session::Validation::Validation(Session& session, const pb::Batch& batch, Plan& plan)
    : session_(session), batch_(batch), plan_(plan), release_unlisted_(batch.resync() && batch.release_unlisted()) {}

absl::Status Session::Validation::Run(RejectReason* reason) {
  using Rule = absl::Status (Validation::*)();
  static constexpr Rule kRules[] = {
      &Validation::CheckSequence, &Validation::CheckBatchSize,          &Validation::CheckDefines,
      &Validation::CheckTierCaps, &Validation::ReserveLevelsForDefines, &Validation::CheckResyncOpen,
      &Validation::CheckDeltas,   &Validation::CheckCounterRoom,        &Validation::CheckReleases,
  };
  for (Rule rule : kRules) {
    if (absl::Status status = (this->*rule)(); !status.ok()) {
      *reason = reason_;
      return status;
    }
  }
  return absl::OkStatus();
}

// The sequence is above the last one applied, so a resent batch is never
// applied twice.
absl::Status Session::Validation::CheckSequence() {
  if (batch_.sequence() > session_.applied_sequence_) return absl::OkStatus();
  return Refuse(RejectReason::kSequence, absl::OutOfRangeError(absl::StrCat("batch sequence ", batch_.sequence(),
                                                                            " is not above the last applied sequence ",
                                                                            session_.applied_sequence_)));
}

// At most max_batch_entries entries. A resync states every live handle at
// once, so it may be as large as the session's handles need: a define, two
// open entries and two deltas each.
absl::Status Session::Validation::CheckBatchSize() {
  const uint64_t entries =
      uint64_t(batch_.defines_size()) + batch_.deltas_size() + batch_.releases_size() + batch_.open_size();
  const SessionLimits& limits = session_.limits_;
  const uint64_t max_entries = batch_.resync()
                                   ? std::max<uint64_t>(limits.max_batch_entries, uint64_t{limits.max_handles} * 5)
                                   : limits.max_batch_entries;
  if (entries <= max_entries) return absl::OkStatus();
  return Refuse(RejectReason::kBatchSize,
                absl::ResourceExhaustedError(absl::StrCat(
                    "batch ", batch_.sequence(), " has ", entries, " entries; the limit is ", max_entries,
                    batch_.resync() ? " for a resync (5 per handle, max_handles)" : " (max_batch_entries)")));
}

// Every define is well formed, agrees with what its handle is already
// defined as, and the session's handles stay within max_handles.
absl::Status Session::Validation::CheckDefines() {
  for (int i = 0; i < batch_.defines_size(); ++i) {
    if (release_unlisted_) plan_.kept.insert(batch_.defines(i).handle());
    if (absl::Status status = CheckDefine(i); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Session::Validation::CheckDefine(int i) {
  const pb::Define& define = batch_.defines(i);
  const std::string entry = absl::StrCat("defines[", i, "] (handle ", define.handle(), "): ");
  absl::StatusOr<std::string> label = NormalizeTierLabel(define.tier_label());
  if (!label.ok()) {
    return Refuse(RejectReason::kInvalidPath,
                  absl::InvalidArgumentError(absl::StrCat(entry, label.status().message())));
  }
  std::optional<Tier> tier = TierFromProto(define.tier());
  if (!define.tier_label().empty()) {
    // The label wins; the enum is only what a sidecar without labels reads.
    tier = *label == "internal" ? Tier::kInternal : Tier::kExternal;
  } else if (!tier) {
    return Refuse(RejectReason::kInvalidEnum, absl::InvalidArgumentError(absl::StrCat(
                                                  entry, "tier is unspecified or unknown (", define.tier(), ")")));
  } else {
    *label = TierLabelOf(*tier);
  }
  if (absl::Status s = ValidatePath(define.path()); !s.ok()) {
    return Refuse(RejectReason::kInvalidPath, absl::InvalidArgumentError(absl::StrCat(entry, s.message())));
  }
  Path path(define.path());
  if (const Handle* existing = Find(define.handle())) {
    if (existing->path == path && existing->label == *label && existing->presence == define.presence()) {
      return absl::OkStatus();
    }
    return Refuse(RejectReason::kRedefined, absl::FailedPreconditionError(absl::StrCat(
                                                "defines[", i, "]: handle ", define.handle(), " is already defined as ",
                                                Describe(*existing), "; it cannot be redefined as ",
                                                Describe(Handle{path, *tier, {}, {}, *label, define.presence(), {}}))));
  }
  if (session_.handles_.size() + plan_.defined.size() + 1 > session_.limits_.max_handles) {
    return Refuse(RejectReason::kHandleLimit,
                  absl::ResourceExhaustedError(absl::StrCat(entry, "the session would hold more than ",
                                                            session_.limits_.max_handles, " handles (max_handles)")));
  }
  plan_.defined.emplace(define.handle(),
                        Handle{std::move(path), *tier, BroadcastStats(), {}, *std::move(label), define.presence(), {}});
  return absl::OkStatus();
}

// The levels the new handles need fit within the aggregator's max_levels.
// They are created only in Commit, so a refused batch leaves none behind;
// the plan holds their room until then. A refusal names the first define
// that does not fit, with what ReserveLevels says of the defines up to it.
absl::Status Session::Validation::ReserveLevelsForDefines() {
  std::vector<Path> paths;
  paths.reserve(plan_.defined.size());
  for (const auto& [id, handle] : plan_.defined) {
    if (handle.in_levels()) paths.push_back(handle.path);
  }
  if (paths.empty()) return absl::OkStatus();
  absl::StatusOr<Stats::LevelReservation> room = session_.stats_.ReserveLevels(paths);
  if (room.ok()) {
    plan_.room = *std::move(room);
    return absl::OkStatus();
  }
  if (std::optional<int> first = FirstDefineOverLevelRoom()) {
    std::vector<Path> so_far;
    so_far.reserve(*first + 1);
    for (int i = 0; i <= *first; ++i) {
      if (InLevels(i)) so_far.push_back(Path(batch_.defines(i).path()));
    }
    absl::StatusOr<Stats::LevelReservation> fits = session_.stats_.ReserveLevels(so_far);
    if (!fits.ok()) {
      return Refuse(RejectReason::kLevelLimit, absl::ResourceExhaustedError(absl::StrCat(
                                                   "defines[", *first, "] (handle ", batch_.defines(*first).handle(),
                                                   "): ", fits.status().message())));
    }
  }
  // Only when levels were freed, or promises given back, between the looks
  // above: the refusal of the whole batch stands, naming no define.
  return Refuse(RejectReason::kLevelLimit, room.status());
}

// One pass over the defines' level keys, each looked up in the aggregator
// once: linear in the batch. The count of new levels only grows from one
// define to the next, so the first define that takes it over the room is the
// first whose prefix of the batch ReserveLevels refuses.
std::optional<int> Session::Validation::FirstDefineOverLevelRoom() const {
  const Stats& stats = session_.stats_;
  const std::optional<uint64_t> room = stats.LevelRoom();
  if (!room) return std::nullopt;
  absl::flat_hash_set<Path> seen;
  uint64_t missing = 0;
  for (int i = 0; i < batch_.defines_size(); ++i) {
    if (!InLevels(i)) continue;
    for (Path& key : stats.LevelKeysOf(Path(batch_.defines(i).path()))) {
      auto [it, first_seen] = seen.insert(std::move(key));
      if (first_seen && stats.level(*it) == nullptr) ++missing;
    }
    if (missing > *room) return i;
  }
  return std::nullopt;
}

// Open entries come only with resync, name each usable handle and role at
// most once, with a known role.
absl::Status Session::Validation::CheckResyncOpen() {
  if (!batch_.resync() && batch_.open_size() > 0) {
    return Refuse(RejectReason::kInvalidEnum,
                  absl::InvalidArgumentError(absl::StrCat("open[0] (handle ", batch_.open(0).handle(),
                                                          "): open entries are only allowed with resync set")));
  }
  for (int i = 0; i < batch_.open_size(); ++i) {
    const pb::OpenGuards& open = batch_.open(i);
    std::optional<Role> role = RoleFromProto(open.role());
    if (!role) {
      return Refuse(RejectReason::kInvalidEnum,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "] (handle ", open.handle(),
                                                            "): role is unspecified or unknown (", open.role(), ")")));
    }
    if (!Usable(open.handle()) || !Find(open.handle())) {
      return Refuse(RejectReason::kUnknownHandle,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "]: unknown handle ", open.handle())));
    }
    const Handle& record = *Find(open.handle());
    if (absl::Status s = CheckKind(absl::StrCat("open[", i, "] (handle ", open.handle(), "): "), record, *role,
                                   open.broadcasts() | open.subscriptions() | open.announced(), open.sessions());
        !s.ok()) {
      return s;
    }
    const OpenGuards guards{open.broadcasts(), open.subscriptions(), open.announced(), open.sessions()};
    if (!plan_.resync.try_emplace(internal::GuardKey(open.handle(), *role), guards).second) {
      return Refuse(RejectReason::kDuplicate,
                    absl::InvalidArgumentError(absl::StrCat("open[", i, "]: handle ", open.handle(), " role ",
                                                            std::string(RoleName(*role)), " is listed twice")));
    }
  }
  return absl::OkStatus();
}

// Every delta names a usable handle with a known role, and closes no more
// guards than are open at that point of the batch.
absl::Status Session::Validation::CheckDeltas() {
  // Room for the new handles now, so that the pointers the plan takes stay
  // valid when Commit inserts them.
  session_.handles_.reserve(session_.handles_.size() + plan_.defined.size());
  plan_.targets.reserve(batch_.deltas_size());
  plan_.roles.reserve(batch_.deltas_size());
  for (int i = 0; i < batch_.deltas_size(); ++i) {
    if (absl::Status status = CheckDelta(i); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Session::Validation::CheckDelta(int i) {
  const pb::HandleDelta& delta = batch_.deltas(i);
  std::optional<Role> role = RoleFromProto(delta.role());
  if (!role) {
    return Refuse(RejectReason::kInvalidEnum,
                  absl::InvalidArgumentError(absl::StrCat("deltas[", i, "] (handle ", delta.handle(),
                                                          "): role is unspecified or unknown (", delta.role(), ")")));
  }
  Handle* record = Usable(delta.handle()) ? Find(delta.handle()) : nullptr;
  if (!record) {
    return Refuse(RejectReason::kUnknownHandle,
                  absl::InvalidArgumentError(absl::StrCat("deltas[", i, "]: unknown handle ", delta.handle())));
  }
  plan_.targets.push_back(plan_.defined.contains(delta.handle()) ? nullptr : record);
  plan_.roles.push_back(*role);
  const uint64_t traffic = delta.broadcasts_opened() | delta.broadcasts_closed() | delta.subscriptions_opened() |
                           delta.subscriptions_closed() | delta.announced_opened() | delta.announced_closed() |
                           delta.announced_bytes() | delta.fetches() | delta.bytes() | delta.frames() | delta.groups() |
                           delta.datagrams();
  const uint64_t sessions = delta.sessions_opened() | delta.sessions_closed();
  if (absl::Status s = CheckKind(DeltaEntry(i, delta.handle(), *role), *record, *role, traffic, sessions); !s.ok()) {
    return s;
  }
  if ((delta.broadcasts_opened() | delta.broadcasts_closed() | delta.subscriptions_opened() |
       delta.subscriptions_closed() | delta.announced_opened() | delta.announced_closed() | sessions) == 0) {
    return absl::OkStatus();  // only sums: nothing opens or closes
  }
  return CheckOpensAndCloses(i, *role, OpenNow(delta.handle(), *role, *record));
}

absl::Status Session::Validation::CheckOpensAndCloses(int i, Role role, OpenGuards& open) {
  const pb::HandleDelta& delta = batch_.deltas(i);
  struct Guards {
    uint64_t* open;
    uint64_t opened;
    uint64_t closed;
    const char* what;
  } guards[] = {{&open.broadcasts, delta.broadcasts_opened(), delta.broadcasts_closed(), "broadcast"},
                {&open.subscriptions, delta.subscriptions_opened(), delta.subscriptions_closed(), "subscription"},
                {&open.announced, delta.announced_opened(), delta.announced_closed(), "announce"},
                {&open.sessions, delta.sessions_opened(), delta.sessions_closed(), "session"}};
  for (const Guards& g : guards) {
    if (g.opened > std::numeric_limits<uint64_t>::max() - *g.open) {
      return Refuse(RejectReason::kOverClose,
                    absl::InvalidArgumentError(absl::StrCat(DeltaEntry(i, delta.handle(), role), "opening ", g.opened,
                                                            " more ", g.what, " guards overflows the count")));
    }
    const uint64_t available = *g.open + g.opened;
    if (g.closed > available) {
      return Refuse(RejectReason::kOverClose,
                    absl::InvalidArgumentError(absl::StrCat(DeltaEntry(i, delta.handle(), role), "closes ", g.closed,
                                                            " ", g.what, " guards but only ", available, " are open")));
    }
    *g.open = available - g.closed;
  }
  return absl::OkStatus();
}

// No counter of any level passes 2^64-1: the batch's deltas (and a resync's
// open guards, an upper bound of the opens it counts), summed per tier, role
// and counter, fit above the root level's counters. Every bump lands on the
// root, so no level holds more than it, and room there is room everywhere.
// The refusal names the first delta (or open entry) that does not fit.
absl::Status Session::Validation::CheckCounterRoom() {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  std::array<Counts, kTierRoleCount> total{};
  if (std::shared_ptr<const Level> root = session_.stats_.level(Path())) {
    for (size_t i = 0; i < kTierRoleCount; ++i) total[i] = root->snapshot(TierAt(i), RoleAt(i));
  }
  auto add = [&](const std::string& entry, Tier tier, Role role, const Counts& delta) -> absl::Status {
    Counts& sum = total[TierRoleIndex(tier, role)];
    for (const CountField& f : kCountFields) {
      if (delta.*f.field <= kMax - sum.*f.field) {
        sum.*f.field += delta.*f.field;
        continue;
      }
      return Refuse(RejectReason::kCounterWrap,
                    absl::InvalidArgumentError(absl::StrCat(
                        entry, "adds ", delta.*f.field, " to ", std::string(f.name), " (", std::string(TierName(tier)),
                        " ", std::string(RoleName(role)), "), which would pass 2^64-1 on the root level (",
                        total[TierRoleIndex(tier, role)].*f.field, " with the entries before it)")));
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < batch_.open_size(); ++i) {
    const pb::OpenGuards& open = batch_.open(i);
    const Handle* record = Find(open.handle());
    if (!record->in_levels()) continue;
    Counts opens;
    opens.broadcasts = open.broadcasts();
    opens.subscriptions = open.subscriptions();
    const Role role = *RoleFromProto(open.role());  // checked by CheckResyncOpen
    if (absl::Status s = add(absl::StrCat("open[", i, "] (handle ", open.handle(), "): "), record->tier, role, opens);
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < batch_.deltas_size(); ++i) {
    const pb::HandleDelta& delta = batch_.deltas(i);
    const Handle* record = Find(delta.handle());
    if (!record->in_levels()) continue;
    if (absl::Status s =
            add(DeltaEntry(i, delta.handle(), plan_.roles[i]), record->tier, plan_.roles[i], CountsFromDelta(delta));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Every release names a usable handle, once, with no guard left open on it
// after the batch's deltas.
absl::Status Session::Validation::CheckReleases() {
  absl::flat_hash_set<uint32_t> released;
  for (int i = 0; i < batch_.releases_size(); ++i) {
    if (absl::Status status = CheckRelease(i, released); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Session::Validation::CheckRelease(int i, absl::flat_hash_set<uint32_t>& released) {
  const uint32_t handle = batch_.releases(i);
  const Handle* record = Usable(handle) ? Find(handle) : nullptr;
  if (!record) {
    return Refuse(RejectReason::kUnknownHandle,
                  absl::InvalidArgumentError(absl::StrCat("releases[", i, "]: unknown handle ", handle)));
  }
  if (!released.insert(handle).second) {
    return Refuse(RejectReason::kDuplicate,
                  absl::InvalidArgumentError(absl::StrCat("releases[", i, "]: handle ", handle, " is released twice")));
  }
  for (Role role : kRoles) {
    const OpenGuards& open = OpenNow(handle, role, *record);
    if (record->presence && open.sessions != 0) {
      return Refuse(RejectReason::kReleaseOpen,
                    absl::InvalidArgumentError(absl::StrCat("releases[", i, "]: presence handle ", handle,
                                                            " still has ", open.sessions, " session guards open")));
    }
    if (open.broadcasts != 0 || open.subscriptions != 0 || open.announced != 0) {
      return Refuse(
          RejectReason::kReleaseOpen,
          absl::InvalidArgumentError(absl::StrCat(
              "releases[", i, "]: handle ", handle, " still has ", open.broadcasts, " broadcast, ", open.subscriptions,
              " subscription and ", open.announced, " announce guards open as ", std::string(RoleName(role)))));
    }
  }
  return absl::OkStatus();
}

Session::Handle* Session::Validation::Find(uint32_t handle) {
  if (auto it = session_.handles_.find(handle); it != session_.handles_.end()) return &it->second;
  if (auto it = plan_.defined.find(handle); it != plan_.defined.end()) return &it->second;
  return nullptr;
}

bool Session::Validation::Usable(uint32_t handle) const { return !release_unlisted_ || plan_.kept.contains(handle); }

Session::OpenGuards& Session::Validation::OpenNow(uint32_t handle, Role role, const Handle& record) {
  auto [it, inserted] = running_.try_emplace(internal::GuardKey(handle, role));
  if (!inserted) return it->second;
  if (batch_.resync()) {
    auto resync = plan_.resync.find(internal::GuardKey(handle, role));
    it->second = resync == plan_.resync.end() ? OpenGuards{} : resync->second;
  } else {
    it->second = record.open[static_cast<size_t>(role)];
  }
  return it->second;
}

absl::Status Session::Validation::Refuse(RejectReason reason, absl::Status status) {
  reason_ = reason;
  return status;
}

}  // namespace moq_stats::server
