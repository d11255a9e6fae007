// The aggregator beyond the seed's tests (stats_seed_test.cc): configuration,
// bad paths, batched deltas, guard semantics, and memory that follows live
// paths.

#include "server/stats/stats.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using ::moq_stats::test::SimulatedTime;
using test::StatsFixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr Tier kExt = Tier::kExternal;
constexpr Tier kInt = Tier::kInternal;
constexpr Role kPub = Role::kPublisher;
constexpr Role kSub = Role::kSubscriber;

absl::Status CreateWith(StatsConfig config) {
  Origin origin;
  SimulatedTime time;
  return Stats::Create(config, &origin, &time.scheduler(), &time.clock()).status();
}

TEST(StatsConfigTest, EmptyPrefixIsAClearError) {
  StatsConfig config;
  config.prefix = "";
  absl::Status s = CreateWith(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("stats prefix must not be empty"));
  config.prefix = "///";
  EXPECT_EQ(CreateWith(config).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatsConfigTest, LevelsZeroIsDisabledWhateverThePrefix) {
  Origin origin;
  SimulatedTime time;
  StatsConfig config;
  config.prefix = "";
  config.levels = 0;
  auto stats = Stats::Create(config, &origin, &time.scheduler(), &time.clock());
  ASSERT_TRUE(stats.ok());
  EXPECT_FALSE(stats->enabled());
}

TEST(StatsConfigTest, BadIntervalRetentionAndNode) {
  StatsConfig config;
  config.interval = absl::ZeroDuration();
  EXPECT_THAT(std::string(CreateWith(config).message()), HasSubstr("interval"));
  config = StatsConfig();
  config.retention = absl::Seconds(-1);
  EXPECT_THAT(std::string(CreateWith(config).message()), HasSubstr("retention"));
  config = StatsConfig();
  config.node = "\xff";
  EXPECT_THAT(std::string(CreateWith(config).message()), HasSubstr("node"));
  config = StatsConfig();
  EXPECT_TRUE(CreateWith(config).ok());
}

TEST(StatsConfigTest, ValidateStatsConfigAnswersAsCreateDoes) {
  std::vector<StatsConfig> configs(8);
  configs[1].prefix = "";
  configs[2].prefix = "///";
  configs[3].node = "\xff";
  configs[4].interval = absl::ZeroDuration();
  configs[5].retention = absl::Seconds(-1);
  configs[6].prefix = std::string(2000, 'a');
  configs[7] = configs[1];
  configs[7].levels = 0;  // disabled: nothing else is checked
  for (const StatsConfig& config : configs) {
    SCOPED_TRACE(config.prefix.substr(0, 8) + " " + absl::FormatDuration(config.interval));
    EXPECT_EQ(ValidateStatsConfig(config), CreateWith(config));
  }
  EXPECT_TRUE(ValidateStatsConfig(StatsConfig()).ok());
  EXPECT_EQ(ValidateStatsConfig(configs[4]).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatsTest, OddPathsAreNormalised) {
  StatsFixture f(2);
  { PublisherStats p = f.stats().tier(kExt).broadcast("//a//b/").publisher(); }
  EXPECT_EQ(f.Read("a/b", kExt, kPub).broadcasts, 1u);
  EXPECT_EQ(f.Read("a", kExt, kPub).broadcasts, 1u);
  EXPECT_EQ(f.Read("", kExt, kPub).broadcasts, 1u);
  EXPECT_EQ(f.stats().level_count(), 3u);
}

TEST(StatsTest, EmptyAndSlashOnlyPathsCountAtTheRootOnly) {
  StatsFixture f(2);
  for (const char* path : {"", "/", "////"}) {
    BroadcastStats bs = f.stats().tier(kExt).broadcast(path);
    EXPECT_FALSE(bs.empty()) << path;
    EXPECT_EQ(bs.levels().size(), 1u) << path;
    PublisherStats p = bs.publisher();
  }
  EXPECT_EQ(f.Read("", kExt, kPub).broadcasts, 3u);
  EXPECT_EQ(f.stats().level_count(), 1u);
}

TEST(StatsTest, InvalidPathsGiveEmptyHandlesAndAreCounted) {
  StatsFixture f(2);
  std::string long_path(kMaxPathBytes + 1, 'x');
  std::string many_segments;
  for (size_t i = 0; i <= kMaxPathSegments; ++i) many_segments += "s/";
  for (const std::string& path : {long_path, many_segments, std::string("bad\xc3(utf8"), std::string("\xed\xa0\x80")}) {
    BroadcastStats bs = f.stats().tier(kExt).broadcast(path);
    EXPECT_TRUE(bs.empty());
    PublisherStats p = bs.publisher();
    PublisherTrack t = p.track("video");
    t.bytes(1);
  }
  EXPECT_EQ(f.stats().rejected_paths(), 4u);
  EXPECT_EQ(f.stats().level_count(), 0u);
  EXPECT_EQ(f.stats().running_publishers(), 0);
}

TEST(StatsTest, LongestAndDeepestValidPathsAreCounted) {
  StatsFixture f(3);
  std::string longest(kMaxPathBytes, 'y');
  std::string deepest;
  for (size_t i = 0; i < kMaxPathSegments; ++i) deepest += "d/";
  EXPECT_EQ(f.stats().tier(kExt).broadcast(longest).levels().size(), 2u);
  EXPECT_EQ(f.stats().tier(kExt).broadcast(deepest).levels().size(), 4u);
}

TEST(StatsTest, NonAsciiPathsAreWrittenAsIsInFrames) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("caf\xc3\xa9/\"q\"");
  PublisherTrack t = bs.publisher_track("v");
  f.time().RunDue();
  auto frames = f.Subscribe(".stats/prefix/caf\xc3\xa9/sjc", kExt, kPub);
  auto got = StatsFixture::Frames(*frames);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr("\"level\":\"caf\xc3\xa9\""));
}

TEST(StatsTest, GuardsMoveAndCloseExactlyOnce) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("m");
  {
    PublisherStats a = bs.publisher();
    PublisherStats b = std::move(a);
    PublisherStats c;
    c = std::move(b);
    PublisherTrack t1 = c.track("x");
    PublisherTrack t2 = bs.publisher_track("y");
    t1 = std::move(t2);  // closes t1's subscription, takes over t2's
    EXPECT_EQ(f.Read("m", kExt, kPub).subscriptions_closed, 1u);
  }
  Counts s = f.Read("m", kExt, kPub);
  EXPECT_EQ(s.broadcasts, 1u);
  EXPECT_EQ(s.broadcasts_closed, 1u);
  EXPECT_EQ(s.subscriptions, 2u);
  EXPECT_EQ(s.subscriptions_closed, 2u);
}

TEST(StatsTest, DefaultGuardsAndHandlesAreNoOps) {
  PublisherTrack t;
  t.bytes(1);
  t.frame();
  SubscriberStats s;
  BroadcastStats bs;
  EXPECT_TRUE(bs.empty());
  StatsHandle h;
  EXPECT_TRUE(h.broadcast("x").empty());
}

// The same traffic as guards on one aggregator and as batched deltas on
// another gives byte-identical frames on every track of every level.
TEST(StatsTest, DeltasProduceWhatTheSameGuardsWould) {
  StatsFixture guards(2);
  StatsFixture deltas(2);
  const std::vector<std::string> tracks_to_watch = {".stats/prefix/sjc", ".stats/prefix/live/sjc",
                                                    ".stats/prefix/live/a/sjc"};

  BroadcastStats g_bs = guards.stats().tier(kExt).broadcast("live/a");
  BroadcastStats g_in = guards.stats().tier(kInt).broadcast("live/a");
  BroadcastStats d_bs = deltas.stats().tier(kExt).broadcast("live/a");
  BroadcastStats d_in = deltas.stats().tier(kInt).broadcast("live/a");

  // Tick 0: a publisher with two tracks, an internal subscriber with one.
  auto g_pub = std::make_unique<PublisherStats>(g_bs.publisher());
  auto g_video = std::make_unique<PublisherTrack>(g_pub->track("video"));
  auto g_audio = std::make_unique<PublisherTrack>(g_pub->track("audio"));
  auto g_sub = std::make_unique<SubscriberStats>(g_in.subscriber());
  auto g_sub_track = std::make_unique<SubscriberTrack>(g_sub->track("video"));
  for (int i = 0; i < 10; ++i) {
    g_video->frame();
    g_video->bytes(1000 + i);
    g_sub_track->frame();
    g_sub_track->bytes(1000 + i);
  }
  g_video->group();
  d_bs.Apply(kPub, Counts{1, 0, 2, 0, 10045, 10, 1});
  d_in.Apply(kSub, Counts{1, 0, 1, 0, 10045, 10, 0});

  std::vector<std::unique_ptr<TrackConsumer>> g_consumers, d_consumers;
  guards.time().RunDue();
  deltas.time().RunDue();
  for (const auto& path : tracks_to_watch) {
    for (Tier tier : kTiers) {
      for (Role role : kRoles) {
        g_consumers.push_back(guards.Subscribe(path, tier, role));
        d_consumers.push_back(deltas.Subscribe(path, tier, role));
      }
    }
  }

  // Tick 1: audio closes, more bytes.
  g_audio.reset();
  g_video->bytes(500);
  d_bs.Apply(kPub, Counts{0, 0, 0, 1, 500, 0, 0});
  guards.Advance(absl::Seconds(1));
  deltas.Advance(absl::Seconds(1));

  // Tick 2: everything closes; final frames. Tick 3: the broadcasts end.
  g_video.reset();
  g_pub.reset();
  g_sub_track.reset();
  g_sub.reset();
  d_bs.Apply(kPub, Counts{0, 1, 0, 1, 0, 0, 0});
  d_in.Apply(kSub, Counts{0, 1, 0, 1, 0, 0, 0});
  guards.Advance(absl::Seconds(2));
  deltas.Advance(absl::Seconds(2));

  ASSERT_EQ(g_consumers.size(), d_consumers.size());
  size_t frames = 0;
  for (size_t i = 0; i < g_consumers.size(); ++i) {
    auto g = StatsFixture::Frames(*g_consumers[i]);
    auto d = StatsFixture::Frames(*d_consumers[i]);
    EXPECT_EQ(g, d) << "track " << i;
    EXPECT_TRUE(g_consumers[i]->ended());
    EXPECT_TRUE(d_consumers[i]->ended());
    frames += g.size();
  }
  EXPECT_GT(frames, 12u);
  EXPECT_EQ(guards.TakeAnnouncements(), deltas.TakeAnnouncements());
}

TEST(StatsTest, ReadersNeverSeeMoreClosedThanOpenedInFrames) {
  StatsFixture f(1);
  BroadcastStats bs = f.stats().tier(kExt).broadcast("x");
  PublisherTrack keep = bs.publisher_track("keep");
  f.time().RunDue();
  auto frames = f.Subscribe(".stats/prefix/x/sjc", kExt, kPub);
  for (int i = 0; i < 50; ++i) {
    { PublisherTrack t = bs.publisher_track("t"); }
    f.Advance(absl::Seconds(1));
  }
  for (const std::string& frame : StatsFixture::Frames(*frames)) {
    // Frames are compact JSON with known field order; pull out the counts.
    auto field = [&](const std::string& name) {
      size_t at = frame.find("\"" + name + "\":");
      return std::stoull(frame.substr(at + name.size() + 3));
    };
    EXPECT_GE(field("subscriptions"), field("subscriptions_closed")) << frame;
    EXPECT_GE(field("broadcasts"), field("broadcasts_closed")) << frame;
  }
}

// Memory follows live paths: a million distinct paths, each opened and
// closed, leave only the levels of the recent ones once retention has run.
TEST(StatsTest, MillionDistinctPathsLeaveMemoryBounded) {
  StatsFixture f(1, "sjc", /*retention=*/absl::Seconds(5));
  constexpr int kPaths = 1'000'000;
  constexpr int kBatch = 20'000;
  size_t max_levels = 0;
  for (int base = 0; base < kPaths; base += kBatch) {
    for (int i = base; i < base + kBatch; ++i) {
      BroadcastStats bs = f.stats().tier(kExt).broadcast("p" + std::to_string(i) + "/x");
      PublisherStats p = bs.publisher();
      // One path in a hundred also opens a track, so publishers start, tick
      // and stop along the way.
      if (i % 100 == 0) {
        PublisherTrack t = p.track("video");
        t.bytes(1);
      }
    }
    max_levels = std::max(max_levels, f.stats().level_count());
    f.Advance(absl::Seconds(2));
  }
  f.Advance(absl::Seconds(10));
  // Retention 5 s with 2 s between batches: at most three batches (and the
  // root) were ever resident at once.
  EXPECT_LE(max_levels, static_cast<size_t>(3 * kBatch + 1));
  EXPECT_EQ(f.stats().level_count(), 1u) << "the root, which is never freed";
  EXPECT_EQ(f.stats().levels_freed(), static_cast<uint64_t>(kPaths));
  EXPECT_EQ(f.stats().running_publishers(), 0);
  EXPECT_EQ(f.origin().broadcast_count(), 0u);
}

TEST(StatsTest, ListLevelsPages) {
  StatsFixture f(2);
  std::vector<BroadcastStats> held;
  for (const char* p : {"a/x", "a/y", "b/z"}) held.push_back(f.stats().tier(kExt).broadcast(p));
  std::vector<std::string> keys;
  for (const auto& level : f.stats().ListLevels(Path("a"), std::nullopt, 10)) keys.push_back(level->key().str());
  EXPECT_THAT(keys, ElementsAre("a", "a/x", "a/y"));
  keys.clear();
  for (const auto& level : f.stats().ListLevels(Path(""), Path("a/y"), 2)) keys.push_back(level->key().str());
  EXPECT_THAT(keys, ElementsAre("b", "b/z"));
}

}  // namespace
}  // namespace moq_stats::server
