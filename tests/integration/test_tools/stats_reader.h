#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_STATS_READER_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_STATS_READER_H_

#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace integration {

// The read side of the daemon, for assertions: every call bounded by a
// short deadline.

// GetLevel of `key` into `*level`.
grpc::Status GetLevel(moq::stats::v1::StatsService::Stub& stub, const std::string& key, moq::stats::v1::Level* level,
                      absl::Duration timeout = absl::Seconds(5));

// Every level at or under `prefix`, following next_page_token with
// `page_size`; `*pages` counts the pages read.
grpc::Status ListAllLevels(moq::stats::v1::StatsService::Stub& stub, const std::string& prefix, uint32_t page_size,
                           std::vector<moq::stats::v1::Level>* levels, int* pages = nullptr);

// GetInfo.
grpc::Status GetInfo(moq::stats::v1::StatsService::Stub& stub, moq::stats::v1::GetInfoResponse* info);

// Polls GetInfo (every 10 ms, bounded by `timeout`) until the self-counter
// `name` is at least `at_least`.
::testing::AssertionResult WaitForCounter(moq::stats::v1::StatsService::Stub& stub, const std::string& name,
                                          double at_least, absl::Duration timeout = absl::Seconds(10));

// The snapshot of one (tier, role) of a level.
const moq::stats::v1::Snapshot& SnapshotOf(const moq::stats::v1::Level& level, moq::stats::v1::Tier tier,
                                           moq::stats::v1::Role role);

inline constexpr moq::stats::v1::Tier kAllTiers[] = {moq::stats::v1::TIER_EXTERNAL, moq::stats::v1::TIER_INTERNAL};
inline constexpr moq::stats::v1::Role kAllRoles[] = {moq::stats::v1::ROLE_PUBLISHER, moq::stats::v1::ROLE_SUBSCRIBER};

// "external/publisher"
std::string TierRoleName(moq::stats::v1::Tier tier, moq::stats::v1::Role role);

// Field-by-field comparisons with readable failures.
::testing::AssertionResult SnapshotEq(const moq::stats::v1::Snapshot& actual, const moq::stats::v1::Snapshot& expected);
// lo <= actual <= hi, field by field.
::testing::AssertionResult SnapshotWithin(const moq::stats::v1::Snapshot& actual, const moq::stats::v1::Snapshot& lo,
                                          const moq::stats::v1::Snapshot& hi);
// broadcasts >= broadcasts_closed and subscriptions >= subscriptions_closed.
::testing::AssertionResult OpenAtLeastClosed(const moq::stats::v1::Snapshot& s);
// Every guard opened was closed.
::testing::AssertionResult AllClosed(const moq::stats::v1::Snapshot& s);
// Every counter of every (tier, role) equal.
::testing::AssertionResult SameCounts(const moq::stats::v1::Level& actual, const moq::stats::v1::Level& expected);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_STATS_READER_H_
