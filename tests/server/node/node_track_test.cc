// The frames of a node-format traffic track: golden text, the live-or-changed
// rule, the one last appearance of a closed path, no frame when nothing
// changed, and the incremental ticks agreeing byte for byte with frames built
// from scratch over random changes, arrivals and departures.

#include "server/node/node_track.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/server/node/test_tools/rebuilt_node_track.h"

namespace moq_stats::server {
namespace {

Counts Traffic(uint64_t broadcasts, uint64_t broadcasts_closed, uint64_t subscriptions, uint64_t subscriptions_closed,
               uint64_t bytes = 0) {
  Counts c;
  c.broadcasts = broadcasts;
  c.broadcasts_closed = broadcasts_closed;
  c.subscriptions = subscriptions;
  c.subscriptions_closed = subscriptions_closed;
  c.bytes = bytes;
  return c;
}

TEST(NodeTrafficTest, SerializesEveryCounterInTheOrderOfMoqsTraffic) {
  Counts c;
  for (const CountField& f : kCountFields) c[f.counter] = 1 + static_cast<uint64_t>(f.counter);
  std::string out;
  AppendNodeTraffic(c, &out);
  EXPECT_EQ(out,
            "{\"announced\":8,\"announced_closed\":9,\"announced_bytes\":10,\"broadcasts\":1,"
            "\"broadcasts_closed\":2,\"subscriptions\":3,\"subscriptions_closed\":4,\"fetches\":11,\"bytes\":5,"
            "\"frames\":6,\"groups\":7,\"datagrams\":12}");
}

TEST(NodeTrafficTest, LiveWhileAnyGuardIsOpen) {
  EXPECT_FALSE(NodeTrafficLive(Counts{}));
  EXPECT_TRUE(NodeTrafficLive(Traffic(1, 0, 0, 0)));
  EXPECT_TRUE(NodeTrafficLive(Traffic(1, 1, 2, 1)));
  EXPECT_FALSE(NodeTrafficLive(Traffic(1, 1, 2, 2, 500)));
  Counts announced;
  announced.announced = 1;
  EXPECT_TRUE(NodeTrafficLive(announced));
  announced.announced_closed = 1;
  EXPECT_FALSE(NodeTrafficLive(announced));
}

TEST(NodeTrackTest, TheFirstTickWritesAnEmptyObject) {
  NodeTrack track;
  EXPECT_EQ(track.Tick({}), std::optional<std::string>("{}"));
  EXPECT_EQ(track.Tick({}), std::nullopt);
}

TEST(NodeTrackTest, LivePathsInByteOrderThenTheClosedOneOnceThenGone) {
  NodeTrack track;
  std::optional<std::string> f = track.Tick({{"zeta/talk", Traffic(1, 0, 1, 0, 512)}, {"Acme", Traffic(1, 0, 0, 0)}});
  ASSERT_TRUE(f);
  EXPECT_EQ(*f,
            "{\"Acme\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
            "\"broadcasts_closed\":0,\"subscriptions\":0,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":0,"
            "\"frames\":0,\"groups\":0,\"datagrams\":0},"
            "\"zeta/talk\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
            "\"broadcasts_closed\":0,\"subscriptions\":1,\"subscriptions_closed\":0,\"fetches\":0,\"bytes\":512,"
            "\"frames\":0,\"groups\":0,\"datagrams\":0}}");
  // Nothing moved: no frame.
  EXPECT_EQ(track.Tick({{"Acme", Traffic(1, 0, 0, 0)}, {"zeta/talk", Traffic(1, 0, 1, 0, 512)}}), std::nullopt);
  // zeta/talk closes: its final counts once...
  f = track.Tick({{"Acme", Traffic(1, 0, 0, 0)}, {"zeta/talk", Traffic(1, 1, 1, 1, 600)}});
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("\"zeta/talk\":{\"announced\":0,\"announced_closed\":0,\"announced_bytes\":0,\"broadcasts\":1,"
                    "\"broadcasts_closed\":1,\"subscriptions\":1,\"subscriptions_closed\":1,\"fetches\":0,"
                    "\"bytes\":600"),
            std::string::npos)
      << *f;
  // ...then it is dropped, though still in the report (idle and unchanged).
  f = track.Tick({{"Acme", Traffic(1, 0, 0, 0)}, {"zeta/talk", Traffic(1, 1, 1, 1, 600)}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->find("zeta"), std::string::npos) << *f;
  EXPECT_NE(f->find("\"Acme\""), std::string::npos) << *f;
  // Everything closed and gone from the report: back to {}.
  f = track.Tick({{"Acme", Traffic(1, 1, 0, 0)}});
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("\"broadcasts_closed\":1"), std::string::npos) << *f;
  EXPECT_EQ(track.Tick({}), std::optional<std::string>("{}"));
  EXPECT_EQ(track.remembered(), 0u);
}

TEST(NodeTrackTest, AnIdlePathThatChangesShowsOnceMore) {
  NodeTrack track;
  ASSERT_TRUE(track.Tick({{"a", Traffic(1, 1, 1, 1, 10)}}));                    // changed from zeros: in the frame
  ASSERT_TRUE(track.Tick({{"a", Traffic(1, 1, 1, 1, 10)}}));                    // unchanged and idle: dropped, {}
  std::optional<std::string> f = track.Tick({{"a", Traffic(1, 1, 1, 1, 25)}});  // bytes after close
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("\"bytes\":25"), std::string::npos) << *f;
}

TEST(NodeTrackTest, AnAllZeroPathIsNeverShown) {
  NodeTrack track;
  EXPECT_EQ(track.Tick({{"quiet", Counts{}}}), std::optional<std::string>("{}"));
}

TEST(NodeTrackTest, PathsAreEscapedAsJsonStrings) {
  NodeTrack track;
  std::optional<std::string> f = track.Tick({{"a\"b\n", Traffic(1, 0, 0, 0)}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->rfind("{\"a\\\"b\\n\":", 0), 0u) << *f;
}

// One random step of a path's counts: opens, closes (never past the opens),
// traffic, or back to zeros.
void Mutate(std::mt19937& rng, Counts& c) {
  switch (std::uniform_int_distribution<int>(0, 7)(rng)) {
    case 0:
      ++c.broadcasts;
      break;
    case 1:
      if (c.broadcasts_closed < c.broadcasts) ++c.broadcasts_closed;
      break;
    case 2:
      ++c.subscriptions;
      break;
    case 3:
      if (c.subscriptions_closed < c.subscriptions) ++c.subscriptions_closed;
      break;
    case 4:
      ++c.announced;
      c.announced_bytes += 12;
      break;
    case 5:
      if (c.announced_closed < c.announced) ++c.announced_closed;
      break;
    case 6:
      c.bytes += 1 + rng() % 5000;
      ++c.frames;
      break;
    default:
      // Closes everything still open, so the path goes idle.
      c.broadcasts_closed = c.broadcasts;
      c.subscriptions_closed = c.subscriptions;
      c.announced_closed = c.announced;
      break;
  }
}

TEST(NodeTrackTest, IncrementalTicksEqualFramesBuiltFromScratch) {
  // Paths with shared prefixes, escapes and bytes above 0x7f, so byte order
  // and escaping are both exercised.
  std::vector<std::string> pool;
  for (int i = 0; i < 48; ++i) pool.push_back(absl::StrCat("c", i % 5, "/room-", i));
  for (const char* p : {"a", "a/b", "a/b/c", "a b", "q\"x", "tab\t", "\x7f", "\xc3\xa9t\xc3\xa9", "\xff", "Z", "0"}) {
    pool.emplace_back(p);
  }
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    std::vector<std::optional<Counts>> table(pool.size());  // nullopt: not in the report
    NodeTrack incremental;
    test::RebuiltNodeTrack rebuilt;
    int frames = 0, unchanged = 0, departures = 0;
    for (int tick = 0; tick < 400; ++tick) {
      SCOPED_TRACE(tick);
      const bool quiet = rng() % 4 == 0;  // a tick where nothing moves
      std::vector<NodeTrack::Entry> entries;
      for (size_t i = 0; i < pool.size(); ++i) {
        std::optional<Counts>& c = table[i];
        if (!quiet) {
          if (!c && rng() % 16 == 0) {
            c = Counts{};                         // arrives from zero...
            if (rng() % 4 == 0) Mutate(rng, *c);  // ...or already counting
          } else if (c && rng() % 24 == 0) {
            c.reset();
            ++departures;
          } else if (c && rng() % 5 == 0) {
            Mutate(rng, *c);
          }
        }
        if (c) entries.emplace_back(pool[i], *c);
      }
      std::shuffle(entries.begin(), entries.end(), rng);
      const std::optional<std::string> want = rebuilt.Tick(entries);
      ASSERT_EQ(incremental.Tick(std::move(entries)), want);
      ASSERT_EQ(incremental.remembered(), rebuilt.remembered());
      (want ? frames : unchanged)++;
    }
    // The walk went through every kind of tick.
    EXPECT_GT(frames, 50);
    EXPECT_GT(unchanged, 50);
    EXPECT_GT(departures, 50);
  }
}

}  // namespace
}  // namespace moq_stats::server
