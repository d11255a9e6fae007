#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_LEDGER_LEVELS_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_LEDGER_LEVELS_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/counts.h"

namespace moq_stats {
namespace faults {
namespace test {

// A relay's ledger, or the sidecar's reading, of some levels: per level key,
// per (tier, role) as the proto enums' values, the counts.
using TierRole = std::pair<int, int>;
using LevelCounts = std::map<TierRole, Counts>;
using Readings = std::map<std::string, LevelCounts>;

// The sidecar's counts of `keys` through GetLevel; false (with the reason)
// when a read fails.
bool ReadLevels(moq::stats::v1::StatsService::Stub& stub, const std::vector<std::string>& keys, Readings* out,
                std::string* why);

// Polls until two readings of `keys` at least `settle` apart are equal and
// `quiet()` holds at both: the sidecar has applied everything the relays sent
// (bounded by `timeout`; false then).
bool WaitForStableReadings(moq::stats::v1::StatsService::Stub& stub, const std::vector<std::string>& keys,
                           const std::function<bool()>& quiet, Readings* out, std::string* why,
                           absl::Duration settle = absl::Milliseconds(200), absl::Duration timeout = absl::Seconds(15));

// a <= b, field by field, for every (tier, role) of every key of `a`.
::testing::AssertionResult AtMost(const Readings& a, const Readings& b);

// a - b, field by field (callers check AtMost(b, a) first).
Readings Minus(const Readings& a, const Readings& b);
Readings Plus(const Readings& a, const Readings& b);

// Every key's (tier, role) equal.
::testing::AssertionResult SameReadings(const Readings& actual, const Readings& expected);

// bytes, frames and groups equal, per key and (tier, role).
::testing::AssertionResult SameSums(const Readings& actual, const Readings& expected);

// open - closed (broadcasts and subscriptions) equal in both, per key and
// (tier, role): the guards open now agree.
::testing::AssertionResult SameOpenGuards(const Readings& actual, const Readings& expected);

// The bumps `r` counts: every field but bytes (guards opened and closed,
// frames, groups), summed over its keys and (tier, role)s.
uint64_t TotalBumps(const Readings& r);

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_LEDGER_LEVELS_H_
