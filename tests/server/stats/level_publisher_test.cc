// One level's broadcast: what Announce publishes, which frames WriteChanged
// writes, and what Unannounce ends. No schedule: that is LevelPublishers'.

#include "server/stats/level_publisher.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"

namespace moq_stats::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class LevelPublisherTest : public ::testing::Test {
 protected:
  std::unique_ptr<TrackConsumer> Subscribe(Tier tier, Role role) {
    auto consumer = origin_.Subscribe(level_->advertised(), TrackName(tier, role));
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    return consumer.ok() ? std::move(*consumer) : nullptr;
  }
  static std::vector<std::string> Frames(TrackConsumer& consumer) {
    std::vector<std::string> out;
    while (auto g = consumer.Next()) out.push_back(*g->frame);
    return out;
  }

  Origin origin_;
  std::shared_ptr<Level> level_ = std::make_shared<Level>(Path("demo"), Path(".stats/prefix/demo/sjc"), 1);
  LevelPublisher publisher_{level_};
};

TEST_F(LevelPublisherTest, AnnouncesTheFourTracksAtTheAdvertisedPath) {
  auto announcements = origin_.Announced(Path(".stats"));
  EXPECT_FALSE(publisher_.announced());
  ASSERT_TRUE(publisher_.Announce(origin_).ok());
  EXPECT_TRUE(publisher_.announced());
  auto a = announcements->Next();
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->active);
  EXPECT_EQ(a->path.str(), ".stats/prefix/demo/sjc");
  for (Tier tier : kTiers) {
    for (Role role : kRoles) EXPECT_NE(Subscribe(tier, role), nullptr) << TrackName(tier, role);
  }
}

TEST_F(LevelPublisherTest, RefusedWhileAnotherBroadcastHoldsThePath) {
  auto squatter = origin_.Publish(level_->advertised(), {});
  ASSERT_TRUE(squatter.ok());
  EXPECT_EQ(publisher_.Announce(origin_).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(publisher_.announced());
}

TEST_F(LevelPublisherTest, WritesEveryTrackFirstThenOnlyWhatChanged) {
  ASSERT_TRUE(publisher_.Announce(origin_).ok());
  auto ext_pub = Subscribe(Tier::kExternal, Role::kPublisher);
  auto int_sub = Subscribe(Tier::kInternal, Role::kSubscriber);
  level_->counters(Tier::kExternal, Role::kPublisher).AddBytes(42);

  EXPECT_EQ(publisher_.WriteChanged(Path("sjc"), 1700000000123), 4u);
  EXPECT_THAT(Frames(*ext_pub),
              ElementsAre(R"({"v":1,"level":"demo","tier":"external","role":"publisher","node":"sjc",)"
                          R"("ts_ms":1700000000123,"broadcasts":0,"broadcasts_closed":0,"subscriptions":0,)"
                          R"("subscriptions_closed":0,"bytes":42,"frames":0,"groups":0})"));
  EXPECT_EQ(Frames(*int_sub).size(), 1u);

  EXPECT_EQ(publisher_.WriteChanged(Path("sjc"), 1700000001123), 0u);
  level_->counters(Tier::kExternal, Role::kPublisher).AddFrames(1);
  EXPECT_EQ(publisher_.WriteChanged(Path(), 1700000002123), 1u);
  auto got = Frames(*ext_pub);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("frames":1,)"));
  EXPECT_THAT(got[0], Not(HasSubstr("node")));
  EXPECT_THAT(Frames(*int_sub), IsEmpty());
}

TEST_F(LevelPublisherTest, UnannounceEndsTheBroadcastAndFreesThePath) {
  auto announcements = origin_.Announced(Path(".stats"));
  ASSERT_TRUE(publisher_.Announce(origin_).ok());
  auto track = Subscribe(Tier::kExternal, Role::kPublisher);
  publisher_.Unannounce();
  EXPECT_FALSE(publisher_.announced());
  EXPECT_TRUE(track->ended());
  EXPECT_FALSE(origin_.has_broadcast(level_->advertised()));
  std::vector<bool> seen;
  while (auto a = announcements->Next()) seen.push_back(a->active);
  EXPECT_THAT(seen, ElementsAre(true, false));
  // Another publisher of the level is accepted at once.
  LevelPublisher next(level_);
  EXPECT_TRUE(next.Announce(origin_).ok());
}

}  // namespace
}  // namespace moq_stats::server
