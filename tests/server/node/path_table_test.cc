// The per-(path, tier) table of the node format: shared entries, and a
// report that keeps the final counts of an entry nobody holds and then
// forgets it.

#include "server/stats/path_table.h"

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

TEST(PathTableTest, OnePathAndTierShareOneEntryTiersDoNot) {
  PathTable table;
  auto a = table.Acquire(Tier::kExternal, Path("a/b"));
  auto b = table.Acquire(Tier::kExternal, Path("//a/b/"));
  auto c = table.Acquire(Tier::kInternal, Path("a/b"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(table.size(), 2u);
}

TEST(PathTableTest, AReportHoldsTheLastCountsOfAReleasedEntryThenForgetsIt) {
  PathTable table;
  auto held = table.Acquire(Tier::kExternal, Path("held"));
  {
    auto gone = table.Acquire(Tier::kInternal, Path("gone"));
    gone->counters(Role::kSubscriber).AddBytes(42);
  }
  held->counters(Role::kPublisher).OpenBroadcast();
  std::vector<PathReport> report = table.Report();
  ASSERT_EQ(report.size(), 2u);
  for (const PathReport& r : report) {
    if (r.path.str() == "gone") {
      EXPECT_EQ(r.tier, "internal");
      EXPECT_EQ(r.roles[1].bytes, 42u);
    } else {
      EXPECT_EQ(r.path.str(), "held");
      EXPECT_EQ(r.roles[0].broadcasts, 1u);
    }
  }
  EXPECT_EQ(table.size(), 1u);
  report = table.Report();
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0].path.str(), "held");
  // Counted again later, a forgotten path starts from zero.
  EXPECT_EQ(table.Acquire(Tier::kInternal, Path("gone"))->counters(Role::kSubscriber).Load().bytes, 0u);
}

}  // namespace
}  // namespace moq_stats::server
