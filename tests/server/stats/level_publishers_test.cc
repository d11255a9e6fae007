// The level publishers' lifecycle (start, tick, stop, retention), driven
// through guards with simulated time.

#include "server/stats/level_publishers.h"

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/stats/stats.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::StatsFixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;
constexpr Role kSub = Role::kSubscriber;

TEST(LevelPublishersTest, BroadcastGuardAloneStartsNothing) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo/bar");
  PublisherStats p = bs.publisher();
  f.Advance(absl::Seconds(3));
  EXPECT_THAT(f.TakeAnnouncements(), IsEmpty());
  EXPECT_EQ(f.stats().running_publishers(), 0);
  EXPECT_EQ(f.time().scheduler().pending(), 0u);
}

TEST(LevelPublishersTest, FirstTickIsImmediateAndWritesAllFourTracks) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  PublisherStats p = bs.publisher();
  PublisherTrack t = p.track("video");
  t.bytes(42);
  EXPECT_EQ(f.stats().running_publishers(), 2);
  f.time().RunDue();  // no time passes
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc"));

  const int64_t ts = f.time().clock().UnixMillis();
  auto ext_pub = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  EXPECT_THAT(StatsFixture::Frames(*ext_pub),
              ElementsAre(R"({"v":1,"level":"foo","tier":"external","role":"publisher","node":"sjc","ts_ms":)" +
                          std::to_string(ts) +
                          R"(,"broadcasts":1,"broadcasts_closed":0,"subscriptions":1,"subscriptions_closed":0,)"
                          R"("bytes":42,"frames":0,"groups":0})"));
  auto int_sub = f.Subscribe(".stats/prefix/sjc", kInt, kSub);
  EXPECT_THAT(StatsFixture::Frames(*int_sub),
              ElementsAre(R"({"v":1,"level":"","tier":"internal","role":"subscriber","node":"sjc","ts_ms":)" +
                          std::to_string(ts) +
                          R"(,"broadcasts":0,"broadcasts_closed":0,"subscriptions":0,"subscriptions_closed":0,)"
                          R"("bytes":0,"frames":0,"groups":0})"));
  EXPECT_TRUE(f.Subscribe(".stats/prefix/sjc", kExt, kSub) != nullptr);
  EXPECT_TRUE(f.Subscribe(".stats/prefix/sjc", kInt, kPub) != nullptr);
}

TEST(LevelPublishersTest, TicksEveryIntervalWhileActive) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  PublisherTrack t = bs.publisher_track("video");
  f.time().RunDue();
  auto frames = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  StatsFixture::Frames(*frames);
  for (int i = 1; i <= 5; ++i) {
    t.bytes(1);
    f.Advance(absl::Milliseconds(999));
    EXPECT_THAT(StatsFixture::Frames(*frames), IsEmpty()) << "tick " << i << " came early";
    f.Advance(absl::Milliseconds(1));
    auto got = StatsFixture::Frames(*frames);
    ASSERT_EQ(got.size(), 1u) << "tick " << i;
    EXPECT_THAT(got[0], HasSubstr("\"bytes\":" + std::to_string(i) + ","));
  }
}

TEST(LevelPublishersTest, TrackOpenedBeforeTheStoppingTickKeepsThePublisher) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  {
    PublisherTrack t = bs.publisher_track("video");
    f.time().RunDue();
  }
  PublisherTrack again = bs.publisher_track("video");
  f.Advance(absl::Seconds(3));
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc"));
  EXPECT_EQ(f.stats().running_publishers(), 2);
}

TEST(LevelPublishersTest, TrackAfterStopStartsANewPublisher) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  {
    PublisherTrack t = bs.publisher_track("video");
    f.time().RunDue();
  }
  f.Advance(absl::Seconds(2));  // the final frames, then the end of the linger
  EXPECT_EQ(f.stats().running_publishers(), 0);
  f.TakeAnnouncements();

  PublisherTrack again = bs.publisher_track("video");
  f.time().RunDue();
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc"));
  // The new broadcast starts from the level's cumulative counts.
  auto frames = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  auto got = StatsFixture::Frames(*frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("subscriptions":2,"subscriptions_closed":1,)"));
}

TEST(LevelPublishersTest, MissedTicksAreDelayedNotBunched) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  PublisherTrack t = bs.publisher_track("video");
  f.time().RunDue();
  auto frames = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  StatsFixture::Frames(*frames);

  // The scheduler stalls for 3.5 intervals: the late tick runs once...
  t.bytes(1);
  f.time().Jump(absl::Milliseconds(3500));
  EXPECT_EQ(StatsFixture::Frames(*frames).size(), 1u);
  // ...and the next one is a whole interval after it, not at the old phase.
  t.bytes(1);
  f.Advance(absl::Milliseconds(999));
  EXPECT_THAT(StatsFixture::Frames(*frames), IsEmpty());
  f.Advance(absl::Milliseconds(1));
  EXPECT_EQ(StatsFixture::Frames(*frames).size(), 1u);
}

TEST(LevelPublishersTest, SlightlyLateTickKeepsItsPhase) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  PublisherTrack t = bs.publisher_track("video");
  f.time().RunDue();
  const absl::Time start = f.time().Now();
  f.time().Jump(absl::Seconds(1) + absl::Milliseconds(2));  // within the tolerance
  auto next = f.time().scheduler().NextDeadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, start + absl::Seconds(2));
}

TEST(LevelPublishersTest, RefusedByOriginClearsTheSlotAndRetries) {
  StatsFixture f(1);
  // Something else holds the level's advertised path.
  auto squatter = f.origin().Publish(Path(".stats/prefix/foo/sjc"));
  ASSERT_TRUE(squatter.ok());
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  {
    PublisherTrack t = bs.publisher_track("video");
    f.time().RunDue();
    // The root published; "foo" was refused and its slot emptied.
    EXPECT_EQ(f.stats().running_publishers(), 1);
    EXPECT_FALSE(f.stats().level(Path("foo"))->publisher_running());
    EXPECT_EQ(f.stats().publishes_refused(), 1u);
  }
  squatter->reset();
  f.Advance(absl::Seconds(2));  // the root's final frames and its linger
  f.TakeAnnouncements();

  PublisherTrack t = bs.publisher_track("video");
  f.time().RunDue();
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/foo/sjc"));
  EXPECT_EQ(f.stats().publishes_refused(), 1u);
}

TEST(LevelPublishersTest, TickAllWritesNowWithoutWaiting) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("foo");
  PublisherTrack t = bs.publisher_track("video");
  f.time().RunDue();
  auto frames = f.Subscribe(".stats/prefix/foo/sjc", kExt, kPub);
  StatsFixture::Frames(*frames);
  t.bytes(7);
  EXPECT_EQ(f.stats().TickAll(), 2u);
  auto got = StatsFixture::Frames(*frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("bytes":7,)"));
}

TEST(LevelPublishersTest, DeltaOpeningSubscriptionsStartsPublishers) {
  StatsFixture f(2);
  BroadcastStats bs = f.stats().tier(kInt).broadcast("a/b");
  Counts open;
  open.broadcasts = 1;
  f.stats().tier(kInt).broadcast("a/b").Apply(kSub, open);
  EXPECT_EQ(f.stats().running_publishers(), 0) << "a broadcast open must not start publishers";
  Counts track;
  track.subscriptions = 2;
  track.bytes = 100;
  bs.Apply(kSub, track);
  EXPECT_EQ(f.stats().running_publishers(), 3);
  f.time().RunDue();
  EXPECT_THAT(f.TakeAnnouncements(),
              UnorderedElementsAre("+.stats/prefix/sjc", "+.stats/prefix/a/sjc", "+.stats/prefix/a/b/sjc"));
  Counts close;
  close.subscriptions_closed = 2;
  close.broadcasts_closed = 1;
  bs.Apply(kSub, close);
  f.Advance(absl::Seconds(2));  // the final frames, then the end of the linger
  EXPECT_EQ(f.stats().running_publishers(), 0);
  EXPECT_EQ(f.TakeAnnouncements().size(), 3u);
}

// A track guard opened while the publisher is stopping is never lost: each
// iteration opens a guard while another thread runs ticks back to back, and
// checks that a publisher runs and is announced for as long as the guard
// is open. (Emptying the slot before dropping the broadcast fails this: the
// new publisher's broadcast is refused as a duplicate.)
TEST(LevelPublishersTest, TrackOpenedWhileStoppingIsNeverLost) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("race");
  std::shared_ptr<const Level> level = bs.levels().back();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ticks{0};
  std::thread ticker([&] {
    while (!stop.load(std::memory_order_acquire)) {
      f.time().clock().Advance(absl::Seconds(1));
      f.time().scheduler().RunDue(f.time().clock().Now());
      ticks.fetch_add(1, std::memory_order_release);
    }
  });
  auto wait_ticks = [&](uint64_t n) {
    uint64_t target = ticks.load(std::memory_order_acquire) + n;
    while (ticks.load(std::memory_order_acquire) < target) std::this_thread::yield();
  };

  std::mt19937 rng(7);
  constexpr int kIterations = 1000;
  for (int i = 0; i < kIterations; ++i) {
    PublisherTrack t = bs.publisher_track("video");
    ASSERT_TRUE(level->publisher_running()) << "iteration " << i;
    wait_ticks(2);  // the publisher has ticked at least once since the open
    ASSERT_TRUE(level->publisher_running()) << "iteration " << i;
    ASSERT_TRUE(f.origin().Subscribe(Path(".stats/prefix/race/sjc"), "publisher.json").ok()) << "iteration " << i;
    // Close, then let a random number of ticks pass (0 to 2), so the next
    // open lands before, during or after the stopping tick.
    { PublisherTrack closing = std::move(t); }
    uint64_t n = rng() % 3;
    if (n) wait_ticks(n);
  }
  stop.store(true, std::memory_order_release);
  ticker.join();
  f.Advance(absl::Seconds(2));
  EXPECT_EQ(f.stats().running_publishers(), 0);
  Counts s = level->snapshot(kExt, kPub);
  EXPECT_EQ(s.subscriptions, static_cast<uint64_t>(kIterations));
  EXPECT_EQ(s.subscriptions_closed, static_cast<uint64_t>(kIterations));
}

}  // namespace
}  // namespace moq_stats::server
