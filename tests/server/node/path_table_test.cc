// The per-(path, tier) table of the node format: shared entries, reports
// that carry only what was made, marked changed or let go since the last
// one, the final counts of an entry nobody holds and then forgetting it,
// and no change lost to a report racing the bumps.

#include "server/stats/path_table.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

std::vector<std::string> Paths(const std::vector<PathReport>& report) {
  std::vector<std::string> out;
  for (const PathReport& r : report) out.push_back(r.path.str() + (r.released ? " released" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

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
    gone->MarkChanged();
  }
  held->counters(Role::kPublisher).OpenBroadcast();
  held->MarkChanged();
  std::vector<PathReport> report = table.Report();
  ASSERT_EQ(report.size(), 2u);
  for (const PathReport& r : report) {
    if (r.path.str() == "gone") {
      EXPECT_EQ(r.tier, "internal");
      EXPECT_EQ(r.roles[1].bytes, 42u);
      EXPECT_TRUE(r.released);
    } else {
      EXPECT_EQ(r.path.str(), "held");
      EXPECT_EQ(r.roles[0].broadcasts, 1u);
      EXPECT_FALSE(r.released);
    }
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.Report().empty());
  // Counted again later, a forgotten path starts from zero.
  EXPECT_EQ(table.Acquire(Tier::kInternal, Path("gone"))->counters(Role::kSubscriber).Load().bytes, 0u);
}

TEST(PathTableTest, AReportCarriesOnlyWhatWasMadeMarkedOrLetGoSinceTheLast) {
  PathTable table;
  std::vector<std::shared_ptr<PathEntry>> held;
  for (int i = 0; i < 5; ++i) held.push_back(table.Acquire(Tier::kExternal, Path(absl::StrCat("p", i))));
  // Made: in the next report, at zeros.
  std::vector<PathReport> report = table.Report();
  EXPECT_EQ(Paths(report), (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"}));
  for (const PathReport& r : report) EXPECT_EQ(r.roles[0], Counts{});
  EXPECT_TRUE(table.Report().empty());

  // Marked twice between reports: once in the next.
  held[1]->counters(Role::kPublisher).AddBytes(10);
  held[1]->MarkChanged();
  held[1]->counters(Role::kPublisher).AddBytes(5);
  held[1]->MarkChanged();
  held[3]->counters(Role::kSubscriber).AddFrames(2);
  held[3]->MarkChanged();
  report = table.Report();
  ASSERT_EQ(Paths(report), (std::vector<std::string>{"p1", "p3"}));
  for (const PathReport& r : report) {
    if (r.path.str() == "p1") {
      EXPECT_EQ(r.roles[0].bytes, 15u);
    } else {
      EXPECT_EQ(r.roles[1].frames, 2u);
    }
  }
  EXPECT_TRUE(table.Report().empty());

  // A second handle keeps the entry: only the last one lets it go.
  std::shared_ptr<PathEntry> again = table.Acquire(Tier::kExternal, Path("p2"));
  held[2].reset();
  EXPECT_TRUE(table.Report().empty());
  again.reset();
  EXPECT_EQ(Paths(table.Report()), (std::vector<std::string>{"p2 released"}));
  EXPECT_EQ(table.size(), 4u);
  EXPECT_TRUE(table.Report().empty());

  // Every handle gone and reported: no entry object is left behind.
  held.clear();
  EXPECT_EQ(Paths(table.Report()),
            (std::vector<std::string>{"p0 released", "p1 released", "p3 released", "p4 released"}));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.alive(), 0u);
}

TEST(PathTableTest, AnEntryLetGoAndTakenAgainBeforeTheReportCarriesOn) {
  PathTable table;
  auto first = table.Acquire(Tier::kExternal, Path("a"));
  first->counters(Role::kPublisher).AddBytes(3);
  first->MarkChanged();
  table.Report();
  first.reset();
  auto second = table.Acquire(Tier::kExternal, Path("a"));
  std::vector<PathReport> report = table.Report();
  ASSERT_EQ(report.size(), 1u);
  EXPECT_FALSE(report[0].released);
  EXPECT_EQ(report[0].roles[0].bytes, 3u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(PathTableTest, HandlesMayOutliveTheTable) {
  std::shared_ptr<PathEntry> kept;
  {
    PathTable table;
    kept = table.Acquire(Tier::kExternal, Path("a"));
    auto other = table.Acquire(Tier::kExternal, Path("b"));
  }
  kept->counters(Role::kPublisher).AddBytes(1);
  kept->MarkChanged();
  EXPECT_EQ(kept->counters(Role::kPublisher).Load().bytes, 1u);
  kept.reset();  // under ASan/LSan: nothing leaks, nothing is used after free
}

// Bumpers on several threads mark their entries while a reporter reads:
// the last counts each report carried, after one more report once the
// bumpers are done, are exactly what was bumped.
TEST(PathTableTest, ReportsRacingTheBumpsLoseNoChange) {
  PathTable table;
  constexpr int kThreads = 4;
  constexpr int kPaths = 16;
  constexpr int kBumps = 20000;
  std::atomic<bool> done{false};
  std::map<std::string, uint64_t> seen;
  // Handles kept past the bumpers, so the entries stay (a released entry
  // would be forgotten).
  std::mutex keep_mu;
  std::vector<std::shared_ptr<PathEntry>> keep;
  std::thread reporter([&] {
    while (!done.load()) {
      for (const PathReport& r : table.Report()) seen[r.path.str()] = r.roles[0].bytes;
    }
  });
  std::vector<std::thread> bumpers;
  for (int t = 0; t < kThreads; ++t) {
    bumpers.emplace_back([&table, &keep_mu, &keep, t] {
      std::vector<std::shared_ptr<PathEntry>> held;
      for (int p = 0; p < kPaths; ++p) held.push_back(table.Acquire(Tier::kExternal, Path(absl::StrCat("p", p))));
      for (int i = 0; i < kBumps; ++i) {
        PathEntry& entry = *held[(i * 7 + t) % kPaths];
        entry.counters(Role::kPublisher).AddBytes(1);
        entry.MarkChanged();
      }
      std::lock_guard<std::mutex> lock(keep_mu);
      keep.insert(keep.end(), held.begin(), held.end());
    });
  }
  for (std::thread& b : bumpers) b.join();
  done = true;
  reporter.join();
  for (const PathReport& r : table.Report()) seen[r.path.str()] = r.roles[0].bytes;
  uint64_t total = 0;
  for (const auto& [path, bytes] : seen) total += bytes;
  EXPECT_EQ(seen.size(), static_cast<size_t>(kPaths));
  EXPECT_EQ(total, uint64_t{kThreads} * kBumps);
}

}  // namespace
}  // namespace moq_stats::server
