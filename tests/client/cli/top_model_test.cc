// `moq-stats top`'s model: rates from successive cumulative readings (with
// resets), the viewers gauge, the totals and the two sorts. Time is
// simulated: every refresh is stamped by hand.

#include "client/cli/top_model.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// A level whose external publisher role has sent `out_bytes` and
// `out_frames` and has `viewers` subscriptions open (of `viewers + 3` ever
// opened), and whose subscriber role has received `in_bytes`.
TopLevelReading Level(std::string key, uint64_t out_bytes, uint64_t viewers = 0, uint64_t out_frames = 0,
                      uint64_t in_bytes = 0) {
  TopLevelReading r;
  r.key = std::move(key);
  r.external_publisher.bytes = out_bytes;
  r.external_publisher.frames = out_frames;
  r.external_publisher.subscriptions = viewers + 3;
  r.external_publisher.subscriptions_closed = 3;
  r.external_subscriber.bytes = in_bytes;
  return r;
}

std::vector<std::string> Keys(const std::vector<TopRow>& rows) {
  std::vector<std::string> keys;
  for (const TopRow& row : rows) keys.push_back(row.key);
  return keys;
}

TEST(TopModelTest, FirstReadingHasViewersButNoRates) {
  TopModel model;
  model.Update(kStart, {Level("a", 1000, 4)});
  std::vector<TopRow> rows = model.Rows(TopSort::kBitrate, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rates.viewers, 4u);
  EXPECT_EQ(rows[0].rates.out_bits, std::nullopt);
  EXPECT_EQ(rows[0].rates.in_bits, std::nullopt);
  EXPECT_EQ(rows[0].rates.out_frames, std::nullopt);
}

TEST(TopModelTest, RatesAreTheIncreaseOverTheTimeBetweenReadings) {
  TopModel model;
  model.Update(kStart, {Level("a", 1000, 1, 10, 500)});
  // Two seconds later: 4000 bytes more out (32000 bits / 2 s), 50 frames,
  // 1000 bytes in.
  model.Update(kStart + absl::Seconds(2), {Level("a", 5000, 2, 60, 1500)});
  std::vector<TopRow> rows = model.Rows(TopSort::kBitrate, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rates.viewers, 2u);
  EXPECT_THAT(rows[0].rates.out_bits, Optional(16000.0));
  EXPECT_THAT(rows[0].rates.out_frames, Optional(25.0));
  EXPECT_THAT(rows[0].rates.in_bits, Optional(4000.0));

  // The next interval is measured from the second reading, not the first.
  model.Update(kStart + absl::Milliseconds(2500), {Level("a", 5000, 2, 60, 1500)});
  EXPECT_THAT(model.Rows(TopSort::kBitrate, 10)[0].rates.out_bits, Optional(0.0));
}

TEST(TopModelTest, CounterThatWentDownIsAResetCountedFromZero) {
  TopModel model;
  model.Update(kStart, {Level("a", 1'000'000, 0, 900)});
  // The level was freed and made anew: its counters start again from zero
  // and are now 3000 bytes and 30 frames.
  model.Update(kStart + absl::Seconds(1), {Level("a", 3000, 0, 30)});
  TopRates rates = model.Rows(TopSort::kBitrate, 10)[0].rates;
  EXPECT_THAT(rates.out_bits, Optional(24000.0));
  EXPECT_THAT(rates.out_frames, Optional(30.0));
  // The new reading is the base from then on.
  model.Update(kStart + absl::Seconds(2), {Level("a", 4000, 0, 40)});
  rates = model.Rows(TopSort::kBitrate, 10)[0].rates;
  EXPECT_THAT(rates.out_bits, Optional(8000.0));
  EXPECT_THAT(rates.out_frames, Optional(10.0));
}

TEST(TopModelTest, ViewersNeverWrapWhenMoreClosedThanOpenedIsRead) {
  TopModel model;
  TopLevelReading odd = Level("a", 0);
  odd.external_publisher.subscriptions = 2;
  odd.external_publisher.subscriptions_closed = 5;
  model.Update(kStart, {odd});
  EXPECT_EQ(model.Rows(TopSort::kViewers, 10)[0].rates.viewers, 0u);
}

TEST(TopModelTest, RefreshNoLaterThanTheLastGivesNoRates) {
  TopModel model;
  model.Update(kStart, {Level("a", 1000)});
  model.Update(kStart, {Level("a", 2000)});
  EXPECT_EQ(model.Rows(TopSort::kBitrate, 10)[0].rates.out_bits, std::nullopt);
  // The clock stepped back: still no rate, and no negative one.
  model.Update(kStart - absl::Seconds(1), {Level("a", 3000)});
  EXPECT_EQ(model.Rows(TopSort::kBitrate, 10)[0].rates.out_bits, std::nullopt);
  model.Update(kStart, {Level("a", 4000)});
  EXPECT_THAT(model.Rows(TopSort::kBitrate, 10)[0].rates.out_bits, Optional(8000.0));
}

TEST(TopModelTest, LevelsNotReadAgainAreForgottenAndNewOnesStartWithoutRates) {
  TopModel model;
  model.Update(kStart, {Level("a", 1000), Level("b", 1000)});
  model.Update(kStart + absl::Seconds(1), {Level("b", 2000), Level("c", 5000)});
  EXPECT_EQ(model.level_count(), 2u);
  std::vector<TopRow> rows = model.Rows(TopSort::kBitrate, 10);
  EXPECT_THAT(Keys(rows), ElementsAre("b", "c"));
  EXPECT_THAT(rows[0].rates.out_bits, Optional(8000.0));
  EXPECT_EQ(rows[1].rates.out_bits, std::nullopt);
  // "a" comes back: a new level, no rate from its old reading.
  model.Update(kStart + absl::Seconds(2), {Level("a", 9000)});
  EXPECT_EQ(model.Rows(TopSort::kBitrate, 10)[0].rates.out_bits, std::nullopt);
}

TEST(TopModelTest, SortsByBitrateOrViewersLargestFirstTiesInKeyOrder) {
  TopModel model;
  model.Update(kStart, {Level("busy", 0), Level("crowd", 0), Level("idle", 0), Level("also-idle", 0)});
  model.Update(kStart + absl::Seconds(1),
               {Level("busy", 1'000'000, 1), Level("crowd", 1000, 50), Level("idle", 0), Level("also-idle", 0)});
  EXPECT_THAT(Keys(model.Rows(TopSort::kBitrate, 10)), ElementsAre("busy", "crowd", "also-idle", "idle"));
  EXPECT_THAT(Keys(model.Rows(TopSort::kViewers, 10)), ElementsAre("crowd", "busy", "also-idle", "idle"));
  // At most max_rows, the first ones of the order.
  EXPECT_THAT(Keys(model.Rows(TopSort::kViewers, 1)), ElementsAre("crowd"));
  EXPECT_TRUE(model.Rows(TopSort::kViewers, 0).empty());
}

TEST(TopModelTest, SortNamesAndSwitching) {
  EXPECT_STREQ(TopSortName(TopSort::kBitrate), "bitrate");
  EXPECT_STREQ(TopSortName(TopSort::kViewers), "viewers");
  EXPECT_EQ(NextTopSort(TopSort::kBitrate), TopSort::kViewers);
  EXPECT_EQ(NextTopSort(TopSort::kViewers), TopSort::kBitrate);
}

TEST(TopModelTest, RootIsTheTotalsNotARow) {
  TopModel model;
  model.Update(kStart, {Level("", 0, 0), Level("a", 0), Level("a/b", 0)});
  model.Update(kStart + absl::Seconds(1), {Level("", 3000, 7), Level("a", 1000, 2), Level("a/b", 1000, 2)});
  EXPECT_THAT(Keys(model.Rows(TopSort::kBitrate, 10)), ElementsAre("a", "a/b"));
  EXPECT_EQ(model.totals().viewers, 7u);
  EXPECT_THAT(model.totals().out_bits, Optional(24000.0));
}

TEST(TopModelTest, WithoutTheRootTotalsCountEachOutermostLevelOnce) {
  TopModel model;
  // Read under a prefix: "tv" and "radio" are outermost; "tv/news" is under
  // "tv" and must not count twice.
  model.Update(kStart, {Level("tv", 0), Level("tv/news", 0), Level("radio/x", 0)});
  EXPECT_EQ(model.totals().out_bits, std::nullopt);
  model.Update(kStart + absl::Seconds(1), {Level("tv", 1000, 3), Level("tv/news", 1000, 3), Level("radio/x", 500, 1)});
  EXPECT_EQ(model.totals().viewers, 4u);
  EXPECT_THAT(model.totals().out_bits, Optional(12000.0));
  EXPECT_THAT(model.totals().out_frames, Optional(0.0));
}

}  // namespace
}  // namespace moq_stats::cli
