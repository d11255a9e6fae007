#include "moq_stats/counts.h"

#include <set>
#include <string_view>

#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/common/test_tools/counts_testing.h"

namespace moq_stats {
namespace {

TEST(CountsTest, FieldTableCoversEveryCounterOnceInOrder) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kCountFields.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(kCountFields[i].counter), i);
    names.insert(kCountFields[i].name);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(kCountFields[i].field, kCountFields[j].field) << i << " " << j;
  }
  EXPECT_EQ(names.size(), kCounterCount);
  EXPECT_EQ(sizeof(Counts), kCounterCount * sizeof(uint64_t)) << "a field of Counts is missing from kCountFields";
}

TEST(CountsTest, IndexingReachesTheNamedField) {
  Counts c;
  c[Counter::kBytes] = 1200;
  c[Counter::kSubscriptionsClosed] = 3;
  EXPECT_EQ(c.bytes, 1200u);
  EXPECT_EQ(c.subscriptions_closed, 3u);
  const Counts& view = c;
  EXPECT_EQ(view[Counter::kBytes], 1200u);
  EXPECT_EQ(view[Counter::kFrames], 0u);
}

TEST(CountsTest, EqualityAndEmptinessLookAtEveryField) {
  EXPECT_TRUE(Counts{}.empty());
  for (const CountField& f : kCountFields) {
    Counts c;
    c.*f.field = 1;
    EXPECT_FALSE(c.empty()) << f.name;
    EXPECT_NE(c, Counts{}) << f.name;
    Counts same;
    same[f.counter] = 1;
    EXPECT_EQ(c, same) << f.name;
  }
}

TEST(CountsTest, CountsSinceIsTheDifferenceOfTwoReadings) {
  Counts before{1, 0, 2, 1, 100, 3, 1};
  Counts after{2, 1, 2, 2, 250, 5, 1};
  EXPECT_EQ(CountsSince(before, after), (Counts{1, 1, 0, 1, 150, 2, 0}));
  EXPECT_TRUE(CountsSince(after, after).empty());
}

TEST(CountsTest, ClosedCountersAreTheThreeCloses) {
  int closed = 0;
  for (const CountField& f : kCountFields) {
    if (!IsClosedCounter(f.counter)) continue;
    ++closed;
    // Each close follows the open it closes.
    const Counter open = static_cast<Counter>(static_cast<size_t>(f.counter) - 1);
    EXPECT_FALSE(IsClosedCounter(open)) << f.name;
  }
  EXPECT_EQ(closed, 3);
  EXPECT_TRUE(IsClosedCounter(Counter::kBroadcastsClosed));
  EXPECT_TRUE(IsClosedCounter(Counter::kSubscriptionsClosed));
  EXPECT_TRUE(IsClosedCounter(Counter::kAnnouncedClosed));
  EXPECT_FALSE(IsClosedCounter(Counter::kSubscriptions));
  EXPECT_FALSE(IsClosedCounter(Counter::kAnnouncedBytes));
}

TEST(CountsTest, TheLevelFormatCountersComeFirstAndTheNodeOnlyOnesAfter) {
  const std::string_view level[] = {
      "broadcasts", "broadcasts_closed", "subscriptions", "subscriptions_closed", "bytes", "frames", "groups"};
  const std::string_view node_only[] = {"announced", "announced_closed", "announced_bytes", "fetches", "datagrams"};
  ASSERT_EQ(kLevelCounterCount, std::size(level));
  ASSERT_EQ(kCounterCount, std::size(level) + std::size(node_only));
  for (size_t i = 0; i < std::size(level); ++i) EXPECT_EQ(kCountFields[i].name, level[i]);
  for (size_t i = 0; i < std::size(node_only); ++i) EXPECT_EQ(kCountFields[kLevelCounterCount + i].name, node_only[i]);
}

TEST(AtomicCountsTest, LoadNeverShowsAnAnnounceClosedBeforeItsOpen) {
  AtomicCounts a;
  Counts delta;
  delta.announced = 2;
  delta.announced_closed = 2;
  delta.announced_bytes = 40;
  a.Add(delta);
  const Counts read = a.Load();
  EXPECT_EQ(read.announced, 2u);
  EXPECT_EQ(read.announced_closed, 2u);
  EXPECT_EQ(read.announced_bytes, 40u);
}

TEST(AtomicCountsTest, AddThenLoadRoundTrips) {
  AtomicCounts a;
  a.Add(Counts{2, 1, 5, 3, 1000, 10, 4});
  a[Counter::kFrames].fetch_add(1, std::memory_order_relaxed);
  EXPECT_EQ(a.Load(), (Counts{2, 1, 5, 3, 1000, 11, 4}));
}

TEST(AtomicCountsTest, SlotsAreOneCacheLineApartInTheLibrary) {
  EXPECT_GE(alignof(internal::RoleSlot), 64u);
  EXPECT_EQ(sizeof(internal::RoleSlot) % 64, 0u);
}

}  // namespace
}  // namespace moq_stats
