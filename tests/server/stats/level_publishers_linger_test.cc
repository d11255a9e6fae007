// The end of a level publisher: the final frames, the one-interval linger
// during which the broadcast stays announced, and what ends or continues it,
// driven through guards with simulated time.

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/stats/level_publishers.h"
#include "server/stats/stats.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::StatsFixture;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;

constexpr char kFoo[] = ".stats/prefix/foo/sjc";

// A level "foo" (and the root) held live by a broadcast guard and one track
// guard, already announced, with a consumer of foo's publisher.json whose
// first frame was read.
struct HeldLevel {
  explicit HeldLevel(StatsFixture& f)
      : publisher(std::make_unique<PublisherStats>(f.stats().tier(kExt).broadcast("foo").publisher())),
        track(std::make_unique<PublisherTrack>(publisher->track("video"))) {
    f.time().RunDue();
    f.TakeAnnouncements();
    frames = f.Subscribe(kFoo, kExt, kPub);
    StatsFixture::Frames(*frames);
  }
  // Closes the guards: no subscription stays open on any level.
  void Close() {
    track.reset();
    publisher.reset();
  }

  std::unique_ptr<PublisherStats> publisher;
  std::unique_ptr<PublisherTrack> track;
  std::unique_ptr<TrackConsumer> frames;
};

TEST(LevelPublishersLingerTest, FinalFrameStaysAnnouncedOneIntervalThenEnds) {
  StatsFixture f(1);
  HeldLevel held(f);
  auto untouched = f.Subscribe(kFoo, kInt, kPub);
  StatsFixture::Frames(*untouched);

  held.track->bytes(10);
  held.Close();
  f.Advance(absl::Seconds(1));

  // The closing counts are written...
  auto last = StatsFixture::Frames(*held.frames);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_THAT(last[0], HasSubstr(R"("broadcasts":1,"broadcasts_closed":1,"subscriptions":1,)"
                                 R"("subscriptions_closed":1,"bytes":10,)"));
  // ...and the broadcast lingers: still announced, its tracks open.
  EXPECT_FALSE(held.frames->ended());
  EXPECT_FALSE(untouched->ended());
  EXPECT_THAT(f.TakeAnnouncements(), IsEmpty());
  EXPECT_EQ(f.stats().running_publishers(), 2);
  EXPECT_NE(f.Subscribe(kFoo, kExt, kPub), nullptr) << "a subscriber arriving during the linger is served";

  f.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(held.frames->ended()) << "the linger ended early";
  EXPECT_THAT(f.TakeAnnouncements(), IsEmpty());

  f.Advance(absl::Milliseconds(1));
  EXPECT_THAT(StatsFixture::Frames(*held.frames), IsEmpty()) << "the end writes no frame of its own";
  EXPECT_TRUE(held.frames->ended());
  // A track that did not change got no final frame, and ends all the same.
  EXPECT_THAT(StatsFixture::Frames(*untouched), IsEmpty());
  EXPECT_TRUE(untouched->ended());
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("-.stats/prefix/sjc", "-.stats/prefix/foo/sjc"));
  EXPECT_EQ(f.stats().running_publishers(), 0);
  // What stays scheduled is the levels' retention, not another tick.
  f.Advance(absl::Seconds(60));
  EXPECT_EQ(f.stats().level_count(), 1u) << "all but the root, which is never freed";
  EXPECT_EQ(f.time().scheduler().pending(), 0u) << "a stopped publisher left a tick behind";
}

TEST(LevelPublishersLingerTest, LiveAgainDuringTheLingerCarriesOnWithoutANewAnnounce) {
  StatsFixture f(1);
  HeldLevel held(f);
  const uint64_t started = f.stats().publishers_started();
  held.Close();
  f.Advance(absl::Seconds(1));
  ASSERT_EQ(StatsFixture::Frames(*held.frames).size(), 1u);  // the final frame

  // A new guard on the level while it lingers.
  BroadcastStats again = f.stats().tier(kExt).broadcast("foo");
  PublisherTrack track = again.publisher_track("video");
  track.bytes(5);
  for (int i = 0; i < 3; ++i) f.Advance(absl::Seconds(1));

  EXPECT_THAT(f.TakeAnnouncements(), IsEmpty()) << "neither ended nor announced again";
  EXPECT_EQ(f.stats().publishers_started(), started) << "the same publishers carry on";
  EXPECT_FALSE(held.frames->ended());
  auto got = StatsFixture::Frames(*held.frames);
  ASSERT_EQ(got.size(), 1u) << "one frame for the change, on the same track";
  EXPECT_THAT(got[0], HasSubstr(R"("subscriptions":2,"subscriptions_closed":1,"bytes":5,)"));

  // Its own end lingers in turn.
  track = PublisherTrack();
  f.Advance(absl::Seconds(1));
  ASSERT_EQ(StatsFixture::Frames(*held.frames).size(), 1u);
  EXPECT_FALSE(held.frames->ended());
  f.Advance(absl::Seconds(1));
  EXPECT_TRUE(held.frames->ended());
  EXPECT_EQ(f.TakeAnnouncements().size(), 2u);
}

TEST(LevelPublishersLingerTest, CountsMovedDuringTheLingerStartItOver) {
  StatsFixture f(1);
  HeldLevel held(f);
  held.Close();
  f.Advance(absl::Seconds(1));
  ASSERT_EQ(StatsFixture::Frames(*held.frames).size(), 1u);

  // A subscription opens and closes between two ticks: the next tick finds
  // the level idle again, with new closing counts.
  f.Advance(absl::Milliseconds(500));
  { PublisherTrack brief = f.stats().tier(kExt).broadcast("foo").publisher_track("video"); }
  f.Advance(absl::Milliseconds(500));
  auto got = StatsFixture::Frames(*held.frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("subscriptions":2,"subscriptions_closed":2,)"));
  EXPECT_FALSE(held.frames->ended()) << "the new closing counts get their own linger";
  EXPECT_THAT(f.TakeAnnouncements(), IsEmpty());

  f.Advance(absl::Seconds(1));
  EXPECT_TRUE(held.frames->ended());
  EXPECT_EQ(f.stats().running_publishers(), 0);
}

TEST(LevelPublishersLingerTest, TheFinalTickBeforeShutdownDoesNotWaitForALinger) {
  StatsFixture f(1);
  HeldLevel held(f);
  held.Close();
  f.Advance(absl::Seconds(1));
  ASSERT_EQ(StatsFixture::Frames(*held.frames).size(), 1u);
  ASSERT_FALSE(held.frames->ended());

  // No time passes: the lingering broadcasts end now.
  EXPECT_EQ(f.stats().TickAll(), 2u);
  EXPECT_TRUE(held.frames->ended());
  EXPECT_THAT(f.TakeAnnouncements(), UnorderedElementsAre("-.stats/prefix/sjc", "-.stats/prefix/foo/sjc"));
  EXPECT_EQ(f.stats().running_publishers(), 0);
}

TEST(LevelPublishersLingerTest, TheFinalTickBeforeShutdownStillWritesClosingCounts) {
  StatsFixture f(1);
  HeldLevel held(f);
  held.track->bytes(3);
  held.Close();

  // The guards closed since the last tick: the final tick writes the
  // closing counts (the shutdown that follows ends the broadcast).
  EXPECT_EQ(f.stats().TickAll(), 2u);
  auto got = StatsFixture::Frames(*held.frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("subscriptions":1,"subscriptions_closed":1,"bytes":3,)"));
}

}  // namespace
}  // namespace moq_stats::server
