// The per-(tier, auth root) presence table: shared entries, closed read
// before open, a report that keeps the final counts of an entry nobody
// holds and then forgets it, and the tiers it holds.

#include "server/stats/presence_table.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

TEST(PresenceTableTest, OneTierAndRootShareOneEntry) {
  PresenceTable table;
  auto a = table.Acquire("", "acme");
  auto b = table.Acquire("", "acme");
  auto c = table.Acquire("edge", "acme");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_TRUE(table.Contains("edge", "acme"));
  EXPECT_FALSE(table.Contains("edge", "other"));
  std::vector<std::string> tiers = table.tiers();
  std::sort(tiers.begin(), tiers.end());
  EXPECT_EQ(tiers, (std::vector<std::string>{"", "edge"}));
}

TEST(PresenceTableTest, AReportHoldsTheLastCountsOfAReleasedEntryThenForgetsIt) {
  PresenceTable table;
  auto held = table.Acquire("", "held");
  {
    auto gone = table.Acquire("edge", "gone");
    gone->Open(2);
    gone->Close(2);
  }
  held->Open(1);
  std::vector<PresenceReport> report = table.Report();
  ASSERT_EQ(report.size(), 2u);
  for (const PresenceReport& r : report) {
    if (r.root == "gone") {
      EXPECT_EQ(r.tier, "edge");
      EXPECT_EQ(r.counts, (Presence{2, 2}));
    } else {
      EXPECT_EQ(r.root, "held");
      EXPECT_EQ(r.counts, (Presence{1, 0}));
    }
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_FALSE(table.HasTier("edge"));
  EXPECT_TRUE(table.HasTier(""));
  // Counted again later, a forgotten root starts from zero.
  EXPECT_EQ(table.Acquire("edge", "gone")->Load(), (Presence{0, 0}));
}

}  // namespace
}  // namespace moq_stats::server
