#include "server/sessions/checkpoint_counts.h"

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/path.h"
#include "common/tier_label.h"
#include "proto/counts_proto.h"
#include "server/stats/tier.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

namespace {

// Guards open on a level in one tier and role: opened minus closed.
struct OpenGuards {
  uint64_t broadcasts = 0;
  uint64_t subscriptions = 0;
  uint64_t announced = 0;
};

const pb::Snapshot& SnapshotAt(const pb::CheckpointLevel& level, size_t index) {
  switch (index) {
    case TierRoleIndex(Tier::kExternal, Role::kPublisher):
      return level.external_publisher();
    case TierRoleIndex(Tier::kExternal, Role::kSubscriber):
      return level.external_subscriber();
    case TierRoleIndex(Tier::kInternal, Role::kPublisher):
      return level.internal_publisher();
    default:
      return level.internal_subscriber();
  }
}

std::string Where(const std::string& key, size_t index) {
  return absl::StrCat("level \"", key, "\" ", std::string(TierName(TierAt(index))), "/",
                      std::string(RoleName(RoleAt(index))));
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

// `what` held by a session takes `held` from `*open`, when there is that much.
absl::Status Take(uint64_t held, uint64_t* open, const std::string& what, const std::string& session,
                  const std::string& where) {
  if (held > *open) {
    return absl::DataLossError(absl::StrCat("checkpoint session \"", session, "\" holds ", held, " ", what, " open on ",
                                            where, ", where ", *open, " are left open"));
  }
  *open -= held;
  return absl::OkStatus();
}

// DATA_LOSS when `s` (the counts of `where`) closed more than it opened.
absl::Status CheckOpenedAtLeastClosed(const pb::Snapshot& s, const std::string& where) {
  if (s.broadcasts_closed() <= s.broadcasts() && s.subscriptions_closed() <= s.subscriptions() &&
      s.announced_closed() <= s.announced()) {
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("checkpoint ", where, " has ", s.broadcasts_closed(), " of ", s.broadcasts(),
                                          " broadcasts, ", s.subscriptions_closed(), " of ", s.subscriptions(),
                                          " subscriptions and ", s.announced_closed(), " of ", s.announced(),
                                          " announcements closed: more closed than opened"));
}

// Adds what `s` (checked) leaves open to `*open`.
void Accumulate(const pb::Snapshot& s, OpenGuards* open) {
  open->broadcasts = SaturatingAdd(open->broadcasts, s.broadcasts() - s.broadcasts_closed());
  open->subscriptions = SaturatingAdd(open->subscriptions, s.subscriptions() - s.subscriptions_closed());
  open->announced = SaturatingAdd(open->announced, s.announced() - s.announced_closed());
}

// Every guard a session holds on `where` takes one from `*open`.
absl::Status TakeAll(const OpenGuards& held, OpenGuards* open, const std::string& session, const std::string& where) {
  absl::Status s = Take(held.broadcasts, &open->broadcasts, "broadcasts", session, where);
  if (s.ok()) s = Take(held.subscriptions, &open->subscriptions, "subscriptions", session, where);
  if (s.ok()) s = Take(held.announced, &open->announced, "announcements", session, where);
  return s;
}

}  // namespace

absl::Status CheckCheckpointCounts(const pb::Checkpoint& checkpoint, const Stats& stats) {
  if (!stats.enabled()) return absl::OkStatus();
  // Level key -> what is open there, per TierRoleIndex. A key listed twice is
  // restored as the sum of its records.
  std::map<std::string, std::array<OpenGuards, kTierRoleCount>> open;
  for (const pb::CheckpointLevel& level : checkpoint.levels()) {
    std::array<OpenGuards, kTierRoleCount>& guards = open[level.key()];
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      const pb::Snapshot& s = SnapshotAt(level, i);
      if (absl::Status bad = CheckOpenedAtLeastClosed(s, Where(level.key(), i)); !bad.ok()) return bad;
      Accumulate(s, &guards[i]);
    }
  }

  // (tier label, path) -> what is open there, per Role: the node format's
  // path counters.
  std::map<std::pair<std::string, std::string>, std::array<OpenGuards, 2>> paths;
  for (const pb::CheckpointPath& saved : checkpoint.paths()) {
    std::array<OpenGuards, 2>& guards = paths[{saved.tier_label(), saved.path()}];
    for (Role role : kRoles) {
      const pb::Snapshot& s = role == Role::kPublisher ? saved.publisher() : saved.subscriber();
      if (absl::Status bad =
              CheckOpenedAtLeastClosed(s, absl::StrCat("path \"", saved.path(), "\" tier \"", saved.tier_label(), "\" ",
                                                       std::string(RoleName(role))));
          !bad.ok()) {
        return bad;
      }
      Accumulate(s, &guards[static_cast<size_t>(role)]);
    }
  }

  // (tier label, root) -> sessions open there: the node format's presence.
  std::map<std::pair<std::string, std::string>, uint64_t> roots;
  for (const pb::CheckpointPresence& saved : checkpoint.presence()) {
    if (saved.sessions_closed() > saved.sessions()) {
      return absl::DataLossError(absl::StrCat("checkpoint presence of \"", saved.root(), "\" in tier \"",
                                              saved.tier_label(), "\" has ", saved.sessions_closed(), " of ",
                                              saved.sessions(), " sessions closed: more closed than opened"));
    }
    uint64_t& open = roots[{saved.tier_label(), saved.root()}];
    open = SaturatingAdd(open, saved.sessions() - saved.sessions_closed());
  }

  std::set<std::string> sessions;
  for (const pb::CheckpointSession& session : checkpoint.sessions()) {
    if (!sessions.insert(session.session_id()).second) continue;  // Restore skips it
    for (const pb::CheckpointHandle& handle : session.handles()) {
      const std::optional<Tier> tier = TierFromProto(handle.tier());
      if (!tier || !ValidatePath(handle.path()).ok()) continue;
      const Path path(handle.path());
      if (path.has_prefix(stats.prefix())) continue;
      absl::StatusOr<std::string> label = NormalizeTierLabel(handle.tier_label());
      if (!label.ok()) continue;  // Restore refuses the session
      const std::string tier_label = label->empty() ? std::string(TierLabelOf(*tier)) : *label;
      if (handle.presence()) {
        // Counted in the presence table alone, checked when the checkpoint
        // has presence counters.
        if (checkpoint.presence().empty()) continue;
        if (absl::Status s =
                Take(handle.publisher_sessions(), &roots[{tier_label, path.str()}], "sessions", session.session_id(),
                     absl::StrCat("auth root \"", path.str(), "\" tier \"", tier_label, "\""));
            !s.ok()) {
          return s;
        }
        continue;
      }
      const std::array<OpenGuards, 2> held = {
          OpenGuards{handle.publisher_broadcasts(), handle.publisher_subscriptions(), handle.publisher_announced()},
          OpenGuards{handle.subscriber_broadcasts(), handle.subscriber_subscriptions(), handle.subscriber_announced()}};
      // A checkpoint with path counters (one written before they were kept
      // has none) holds every path a session holds guards on.
      if (!checkpoint.paths().empty()) {
        auto it = paths.find({tier_label, path.str()});
        std::array<OpenGuards, 2> none{};
        std::array<OpenGuards, 2>& open_here = it == paths.end() ? none : it->second;
        const std::string where = absl::StrCat("path \"", path.str(), "\" tier \"", tier_label, "\"");
        for (Role role : kRoles) {
          if (absl::Status s = TakeAll(held[static_cast<size_t>(role)], &open_here[static_cast<size_t>(role)],
                                       session.session_id(), where);
              !s.ok()) {
            return s;
          }
        }
      }
      if (IsNamedTier(tier_label)) continue;  // a named tier counts in no level
      // The level keys at or above the path: the root, then one segment more
      // each time.
      for (size_t segments = 0; segments <= path.segment_count(); ++segments) {
        const std::string key = path.first_segments(segments).str();
        auto it = open.find(key);
        if (it == open.end()) continue;
        for (Role role : kRoles) {
          const size_t i = TierRoleIndex(*tier, role);
          if (absl::Status s =
                  TakeAll(held[static_cast<size_t>(role)], &it->second[i], session.session_id(), Where(key, i));
              !s.ok()) {
            return s;
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace moq_stats::server
