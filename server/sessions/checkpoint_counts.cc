#include "server/sessions/checkpoint_counts.h"

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/path.h"
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
      if (s.broadcasts_closed() > s.broadcasts() || s.subscriptions_closed() > s.subscriptions() ||
          s.announced_closed() > s.announced()) {
        return absl::DataLossError(absl::StrCat(
            "checkpoint ", Where(level.key(), i), " has ", s.broadcasts_closed(), " of ", s.broadcasts(),
            " broadcasts, ", s.subscriptions_closed(), " of ", s.subscriptions(), " subscriptions and ",
            s.announced_closed(), " of ", s.announced(), " announcements closed: more closed than opened"));
      }
      guards[i].broadcasts = SaturatingAdd(guards[i].broadcasts, s.broadcasts() - s.broadcasts_closed());
      guards[i].subscriptions = SaturatingAdd(guards[i].subscriptions, s.subscriptions() - s.subscriptions_closed());
      guards[i].announced = SaturatingAdd(guards[i].announced, s.announced() - s.announced_closed());
    }
  }

  std::set<std::string> sessions;
  for (const pb::CheckpointSession& session : checkpoint.sessions()) {
    if (!sessions.insert(session.session_id()).second) continue;  // Restore skips it
    for (const pb::CheckpointHandle& handle : session.handles()) {
      const std::optional<Tier> tier = TierFromProto(handle.tier());
      if (!tier || !ValidatePath(handle.path()).ok()) continue;
      const Path path(handle.path());
      if (path.has_prefix(stats.prefix())) continue;
      const std::array<OpenGuards, 2> held = {
          OpenGuards{handle.publisher_broadcasts(), handle.publisher_subscriptions(), handle.publisher_announced()},
          OpenGuards{handle.subscriber_broadcasts(), handle.subscriber_subscriptions(), handle.subscriber_announced()}};
      // The level keys at or above the path: the root, then one segment more
      // each time.
      for (size_t segments = 0; segments <= path.segment_count(); ++segments) {
        const std::string key = path.first_segments(segments).str();
        auto it = open.find(key);
        if (it == open.end()) continue;
        for (Role role : kRoles) {
          const size_t i = TierRoleIndex(*tier, role);
          const OpenGuards& h = held[static_cast<size_t>(role)];
          absl::Status s =
              Take(h.broadcasts, &it->second[i].broadcasts, "broadcasts", session.session_id(), Where(key, i));
          if (s.ok()) {
            s = Take(h.subscriptions, &it->second[i].subscriptions, "subscriptions", session.session_id(),
                     Where(key, i));
          }
          if (s.ok()) {
            s = Take(h.announced, &it->second[i].announced, "announcements", session.session_id(), Where(key, i));
          }
          if (!s.ok()) return s;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace moq_stats::server
