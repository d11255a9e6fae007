// The frames of a node-format traffic track: golden text, the live-or-changed
// rule, the one last appearance of a closed path, no frame when nothing
// changed, merge patches that turn each frame into the next, and ticks fed
// only the paths that changed agreeing byte for byte with frames built from
// scratch from every path, over random changes, arrivals and departures.

#include "server/node/node_track.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json/merge_patch.h"
#include "common/json/parse.h"
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

// A track whose ticks give the frame's text alone.
class TextTrack {
 public:
  std::optional<std::string> Tick(const std::vector<NodeTrack::Entry>& entries) {
    std::optional<NodeFrame> frame = track_.Tick(entries);
    if (!frame) return std::nullopt;
    return *frame->text;
  }
  size_t remembered() const { return track_.remembered(); }
  size_t held() const { return track_.held(); }

 private:
  NodeTrack track_;
};

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

TEST(NodeTrafficTest, APatchCarriesTheChangedCountersInTrafficOrder) {
  Counts before = Traffic(1, 0, 2, 1, 100);
  Counts after = before;
  after.bytes = 250;
  after.subscriptions_closed = 2;
  after.datagrams = 4;
  std::string out;
  AppendNodeTrafficPatch(before, after, &out);
  EXPECT_EQ(out, "{\"subscriptions_closed\":2,\"bytes\":250,\"datagrams\":4}");
  out.clear();
  AppendNodeTrafficPatch(before, before, &out);
  EXPECT_EQ(out, "{}");
}

TEST(NodeTrackTest, TheFirstTickWritesAnEmptyObject) {
  TextTrack track;
  EXPECT_EQ(track.Tick({}), std::optional<std::string>("{}"));
  EXPECT_EQ(track.Tick({}), std::nullopt);
}

TEST(NodeTrackTest, LivePathsInByteOrderThenTheClosedOneOnceThenGone) {
  TextTrack track;
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
  // ...then it is dropped, reported again unchanged or not at all.
  f = track.Tick({{"zeta/talk", Traffic(1, 1, 1, 1, 600)}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->find("zeta"), std::string::npos) << *f;
  EXPECT_NE(f->find("\"Acme\""), std::string::npos) << *f;
  // Acme closes and zeta/talk is let go (unchanged: it stays out).
  f = track.Tick({{"Acme", Traffic(1, 1, 0, 0)}, {"zeta/talk", Traffic(1, 1, 1, 1, 600), /*released=*/true}});
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("\"broadcasts_closed\":1"), std::string::npos) << *f;
  EXPECT_EQ(f->find("zeta"), std::string::npos) << *f;
  EXPECT_EQ(track.held(), 1u);
  // Acme let go too, unchanged: it leaves, back to {}; nothing held.
  EXPECT_EQ(track.Tick({{"Acme", Traffic(1, 1, 0, 0), /*released=*/true}}), std::optional<std::string>("{}"));
  EXPECT_EQ(track.held(), 0u);
  EXPECT_EQ(track.Tick({}), std::nullopt);
  EXPECT_EQ(track.remembered(), 0u);
}

TEST(NodeTrackTest, AnIdlePathThatChangesShowsOnceMore) {
  TextTrack track;
  ASSERT_TRUE(track.Tick({{"a", Traffic(1, 1, 1, 1, 10)}}));                    // changed from zeros: in the frame
  ASSERT_TRUE(track.Tick({{"a", Traffic(1, 1, 1, 1, 10)}}));                    // unchanged and idle: dropped, {}
  std::optional<std::string> f = track.Tick({{"a", Traffic(1, 1, 1, 1, 25)}});  // bytes after close
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("\"bytes\":25"), std::string::npos) << *f;
}

TEST(NodeTrackTest, AnAllZeroPathIsNeverShown) {
  TextTrack track;
  EXPECT_EQ(track.Tick({{"quiet", Counts{}}}), std::optional<std::string>("{}"));
}

TEST(NodeTrackTest, PathsAreEscapedAsJsonStrings) {
  TextTrack track;
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

TEST(NodeTrackTest, DeltaTicksEqualFramesBuiltFromScratchAndPatchesTurnEachFrameIntoTheNext) {
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
    // Each path of the table: its counts (nullopt: not in the table).
    std::vector<std::optional<Counts>> table(pool.size());
    NodeTrack delta;
    test::RebuiltNodeTrack rebuilt;
    json::Value decoded;  // the value the patches rebuild
    int frames = 0, unchanged = 0, departures = 0, returns = 0;
    std::vector<bool> left_last_tick(pool.size());
    for (int tick = 0; tick < 400; ++tick) {
      SCOPED_TRACE(tick);
      const bool quiet = rng() % 4 == 0;      // a tick where nothing moves
      std::vector<NodeTrack::Entry> changes;  // what the path table reports
      std::vector<NodeTrack::Entry> all;      // every path there is
      for (size_t i = 0; i < pool.size(); ++i) {
        std::optional<Counts>& c = table[i];
        const bool was_there = c.has_value();
        bool changed = false, released = false;
        if (!quiet) {
          if (!c && rng() % 16 == 0) {
            c = Counts{};                         // made at zeros...
            if (rng() % 4 == 0) Mutate(rng, *c);  // ...or already counting
            changed = true;
            if (left_last_tick[i]) ++returns;
          } else if (c && rng() % 24 == 0) {
            if (rng() % 2 == 0) Mutate(rng, *c);  // last counts, then let go
            released = true;
            ++departures;
          } else if (c && rng() % 5 == 0) {
            Mutate(rng, *c);
            changed = true;
          } else if (c && rng() % 9 == 0) {
            changed = true;  // marked, but the counts are as they were
          }
        }
        left_last_tick[i] = released;
        if (!c) continue;
        all.push_back(NodeTrack::Entry{pool[i], *c, released});
        if (changed || released || !was_there) changes.push_back(NodeTrack::Entry{pool[i], *c, released});
        if (released) c.reset();
      }
      std::shuffle(changes.begin(), changes.end(), rng);
      const std::optional<std::string> want = rebuilt.Tick(all);
      const std::optional<NodeFrame> got = delta.Tick(changes);
      ASSERT_EQ(got.has_value(), want.has_value());
      ASSERT_EQ(delta.held(), rebuilt.held());
      if (!got) {
        ++unchanged;
        continue;
      }
      ++frames;
      ASSERT_EQ(*got->text, *want);
      // The patch, applied to the value before, gives this frame's value.
      absl::StatusOr<json::Value> patch = json::Parse(got->patch);
      ASSERT_TRUE(patch.ok()) << got->patch;
      json::Apply(&decoded, *patch);
      absl::StatusOr<json::Value> value = json::Parse(*got->text);
      ASSERT_TRUE(value.ok());
      ASSERT_EQ(decoded, *value) << "patch " << got->patch;
    }
    // The walk went through every kind of tick.
    EXPECT_GT(frames, 50);
    EXPECT_GT(unchanged, 25);
    EXPECT_GT(departures, 50);
    EXPECT_GT(returns, 0);
  }
}

}  // namespace
}  // namespace moq_stats::server
