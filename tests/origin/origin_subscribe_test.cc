// Origin tests: subscribing to tracks, delivery and drops, and the lifetimes
// of consumers, producers and the origin.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "tests/origin/test_tools/origin_tools.h"

namespace moq_stats {
namespace {

using test::DrainAnnouncements;
using test::DrainGroups;
using test::MustCreateTrack;
using test::MustPublish;
using test::MustSubscribe;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- Subscribing ---

TEST(OriginTest, SubscribeNotFound) {
  Origin origin;
  auto no_broadcast = origin.Subscribe(Path("relay/a"), "stats");
  ASSERT_FALSE(no_broadcast.ok());
  EXPECT_EQ(no_broadcast.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_broadcast.status().message()), HasSubstr("relay/a"));

  auto broadcast = MustPublish(origin, "relay/a");
  MustCreateTrack(*broadcast, "stats");
  auto no_track = origin.Subscribe(Path("relay/a"), "nope");
  ASSERT_FALSE(no_track.ok());
  EXPECT_EQ(no_track.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_track.status().message()), HasSubstr("nope"));
  EXPECT_THAT(std::string(no_track.status().message()), HasSubstr("relay/a"));

  // A prefix of the path is not the broadcast.
  EXPECT_EQ(origin.Subscribe(Path("relay"), "stats").status().code(), absl::StatusCode::kNotFound);

  broadcast.reset();
  EXPECT_EQ(origin.Subscribe(Path("relay/a"), "stats").status().code(), absl::StatusCode::kNotFound);
}

TEST(OriginTest, SubscriberGetsLatestFirstThenLive) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  track->WriteFrame("f0");
  track->WriteFrame("f1");
  track->WriteFrame("f2");

  auto consumer = MustSubscribe(origin, "relay/a", "stats");
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("2:f2"));
  track->WriteFrame("f3");
  track->WriteFrame("f4");
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("3:f3", "4:f4"));
  EXPECT_FALSE(consumer->ended());
  EXPECT_EQ(consumer->dropped(), 0u);
}

TEST(OriginTest, SubscriberBeforeAnyGroupGetsEveryGroup) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto consumer = MustSubscribe(origin, "relay/a", "stats");
  EXPECT_FALSE(consumer->Next().has_value());
  track->WriteFrame("f0");
  track->WriteFrame("f1");
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("0:f0", "1:f1"));
}

TEST(OriginTest, ConsumersShareFrameBytes) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto c1 = MustSubscribe(origin, "relay/a", "stats");
  auto c2 = MustSubscribe(origin, "relay/a", "stats");
  track->WriteFrame("shared");
  std::optional<Group> g1 = c1->Next();
  std::optional<Group> g2 = c2->Next();
  ASSERT_TRUE(g1.has_value());
  ASSERT_TRUE(g2.has_value());
  EXPECT_EQ(g1->frame.get(), g2->frame.get());
  EXPECT_EQ(g1->frame.get(), track->latest()->frame.get());
}

TEST(OriginTest, ConsumerEndsWhenBroadcastDropped) {
  Origin origin;
  auto announced = origin.Announced(Path());
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  TrackProducer* other = MustCreateTrack(*broadcast, "other");
  auto consumer = MustSubscribe(origin, "relay/a", "stats");
  auto other_consumer = MustSubscribe(origin, "relay/a", "other");
  track->WriteFrame("f0");
  track->WriteFrame("f1");
  other->WriteFrame("x");

  broadcast.reset();
  EXPECT_EQ(origin.broadcast_count(), 0u);
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/a", "-relay/a"));
  // What was queued is still read, and only then is the track ended.
  EXPECT_FALSE(consumer->ended());
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("0:f0", "1:f1"));
  EXPECT_TRUE(consumer->ended());
  EXPECT_FALSE(consumer->Next().has_value());
  EXPECT_THAT(DrainGroups(*other_consumer), ElementsAre("0:x"));
  EXPECT_TRUE(other_consumer->ended());
}

TEST(OriginTest, SlowConsumerDropsOldestAndCounts) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto slow = MustSubscribe(origin, "relay/a", "stats");
  auto fast = MustSubscribe(origin, "relay/a", "stats");

  constexpr uint64_t kMax = TrackConsumer::kMaxPending;
  constexpr uint64_t kExtra = 10;
  for (uint64_t i = 0; i < kMax + kExtra; ++i) {
    track->WriteFrame(absl::StrCat("f", i));
    // The fast consumer keeps up and never drops.
    ASSERT_TRUE(fast->Next().has_value());
  }
  EXPECT_EQ(fast->dropped(), 0u);

  EXPECT_EQ(slow->dropped(), kExtra);
  std::vector<uint64_t> sequences;
  while (std::optional<Group> g = slow->Next()) sequences.push_back(g->sequence);
  ASSERT_EQ(sequences.size(), kMax);
  // The newest kMaxPending are kept, in order.
  for (uint64_t i = 0; i < kMax; ++i) EXPECT_EQ(sequences[i], kExtra + i);

  // Once caught up it gets every group again.
  track->WriteFrame("next");
  EXPECT_THAT(DrainGroups(*slow), ElementsAre(absl::StrCat(kMax + kExtra, ":next")));
  EXPECT_EQ(slow->dropped(), kExtra);
}

TEST(OriginTest, DestroyedTrackConsumerIsPruned) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  MustSubscribe(origin, "relay/a", "stats").reset();
  auto kept = MustSubscribe(origin, "relay/a", "stats");
  track->WriteFrame("f0");
  EXPECT_THAT(DrainGroups(*kept), ElementsAre("0:f0"));
}

// --- Lifetimes ---

TEST(OriginTest, ConsumersAndProducersOutlivingOriginAreSafe) {
  auto origin = std::make_unique<Origin>();
  auto announced = origin->Announced(Path());
  auto broadcast = MustPublish(*origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  track->WriteFrame("f0");
  auto consumer = MustSubscribe(*origin, "relay/a", "stats");
  int announce_calls = 0;
  announced->SetNotify([&] { ++announce_calls; });

  origin.reset();

  // The producers still work and the tracks still deliver to the consumers
  // that already subscribed; the origin's announcements are over.
  EXPECT_EQ(track->WriteFrame("f1"), 1u);
  ASSERT_TRUE(broadcast->CreateTrack("late").ok());
  EXPECT_EQ(broadcast->path().str(), "relay/a");
  broadcast.reset();
  EXPECT_EQ(announce_calls, 0);
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/a"));
  EXPECT_FALSE(announced->Next().has_value());
  EXPECT_EQ(announced->prefix().str(), "");

  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("0:f0", "1:f1"));
  EXPECT_TRUE(consumer->ended());
  consumer->SetNotify([] {});
  consumer->SetNotify(nullptr);
}

TEST(OriginTest, ConsumerOutlivingProducerIsSafe) {
  Origin origin;
  std::unique_ptr<TrackConsumer> consumer;
  {
    auto broadcast = MustPublish(origin, "relay/a");
    MustCreateTrack(*broadcast, "stats")->WriteFrame("f0");
    consumer = MustSubscribe(origin, "relay/a", "stats");
  }
  EXPECT_EQ(origin.broadcast_count(), 0u);
  EXPECT_FALSE(consumer->ended());
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("0:f0"));
  EXPECT_TRUE(consumer->ended());
  EXPECT_EQ(consumer->dropped(), 0u);
}

TEST(OriginTest, ProducerOutlivingConsumersIsSafe) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  {
    auto consumer = MustSubscribe(origin, "relay/a", "stats");
    auto announced = origin.Announced(Path());
    consumer->SetNotify([] {});
  }
  EXPECT_EQ(track->WriteFrame("f0"), 0u);
  broadcast.reset();
}

}  // namespace
}  // namespace moq_stats
