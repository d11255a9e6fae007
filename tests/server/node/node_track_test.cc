// The frames of a node-format traffic track: golden text, the live-or-changed
// rule, the one last appearance of a closed path, and no frame when nothing
// changed.

#include "server/node/node_track.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace moq_stats::server
