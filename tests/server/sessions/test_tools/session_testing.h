#ifndef MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_TESTING_H_
#define MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_TESTING_H_

// What the Session and SessionRegistry tests share: short names for the
// tiers and roles, and helpers that read every level's counters at once.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/counts_testing.h"

namespace moq_stats::server {

// Readable failures (found by argument-dependent lookup; Counts print as
// tests/common/test_tools/counts_testing.h says).
inline void PrintTo(RejectReason reason, std::ostream* os) { *os << RejectReasonName(reason); }

namespace test {

inline constexpr Tier kExt = Tier::kExternal;
inline constexpr Tier kInt = Tier::kInternal;
inline constexpr Role kPub = Role::kPublisher;
inline constexpr Role kSub = Role::kSubscriber;
inline constexpr ::moq::stats::v1::Tier kExtTier = ::moq::stats::v1::TIER_EXTERNAL;
inline constexpr ::moq::stats::v1::Tier kIntTier = ::moq::stats::v1::TIER_INTERNAL;
inline constexpr ::moq::stats::v1::Role kPubRole = ::moq::stats::v1::ROLE_PUBLISHER;
inline constexpr ::moq::stats::v1::Role kSubRole = ::moq::stats::v1::ROLE_SUBSCRIBER;
inline constexpr absl::Duration kInterval = absl::Seconds(1);  // StatsConfig's default tick interval

// Every level's four snapshots (indexed by TierRoleIndex), by level key.
using LevelCounts = std::map<std::string, std::array<Counts, kTierRoleCount>>;

inline LevelCounts AllCounts(const Stats& stats) {
  LevelCounts out;
  std::optional<Path> after;
  for (;;) {
    auto page = stats.ListLevels(Path(), after, 1000);
    if (page.empty()) break;
    for (const auto& level : page) {
      auto& counts = out[level->key().str()];
      for (size_t i = 0; i < kTierRoleCount; ++i) counts[i] = level->snapshot(TierAt(i), RoleAt(i));
    }
    after = page.back()->key();
  }
  return out;
}

// True when every opened guard on every level was closed.
inline void ExpectAllClosed(const Stats& stats) {
  for (const auto& [key, counts] : AllCounts(stats)) {
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      EXPECT_EQ(counts[i].broadcasts_closed, counts[i].broadcasts)
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
      EXPECT_EQ(counts[i].subscriptions_closed, counts[i].subscriptions)
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
      EXPECT_EQ(counts[i].announced_closed, counts[i].announced)
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
    }
  }
}

// {publisher broadcasts, publisher subscriptions, subscriber broadcasts,
//  subscriber subscriptions}
inline std::array<uint64_t, 4> Flat(const std::array<Session::OpenGuards, 2>& open) {
  return {open[0].broadcasts, open[0].subscriptions, open[1].broadcasts, open[1].subscriptions};
}

// Counts{broadcasts, broadcasts_closed, subscriptions, subscriptions_closed,
//          bytes, frames, groups}
inline Counts Snap(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions,
                   uint64_t subscriptions_closed, uint64_t bytes = 0, uint64_t frames = 0, uint64_t groups = 0) {
  return Counts{broadcasts, broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames, groups};
}

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_TESTING_H_
