// Origin tests: groups of many frames (StartGroup / AppendFrame), what a
// subscriber arriving mid-group receives, and how a consumer that falls
// behind skips whole groups within its bounds.

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

using test::MustCreateTrack;
using test::MustPublish;
using test::MustSubscribe;
using ::testing::ElementsAre;

// Every frame waiting on `consumer` as "sequence.index:frame", with a "!"
// after the frame that completes its group.
std::vector<std::string> DrainFrames(TrackConsumer& consumer) {
  std::vector<std::string> out;
  while (std::optional<Group> g = consumer.Next()) {
    out.push_back(absl::StrCat(g->sequence, ".", g->index, ":", *g->frame, g->complete ? "!" : ""));
  }
  return out;
}

TEST(OriginGroupTest, AppendAddsFramesToTheOpenGroup) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t.json.z");
  auto consumer = MustSubscribe(origin, "relay/a", "t.json.z");

  EXPECT_EQ(track->StartGroup("s0"), 0u);
  EXPECT_EQ(track->AppendFrame("d1").value(), 1u);
  EXPECT_EQ(track->AppendFrame("d2").value(), 2u);
  EXPECT_EQ(track->StartGroup("s1"), 1u);
  EXPECT_EQ(track->AppendFrame("e1").value(), 1u);
  EXPECT_EQ(track->WriteFrame("one"), 2u);

  EXPECT_THAT(DrainFrames(*consumer), ElementsAre("0.0:s0", "0.1:d1", "0.2:d2", "1.0:s1", "1.1:e1", "2.0:one!"));
  EXPECT_EQ(consumer->dropped(), 0u);
  std::vector<Group> latest = track->latest_group();
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(*latest[0].frame, "one");
}

TEST(OriginGroupTest, AppendNeedsAnOpenGroup) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  auto consumer = MustSubscribe(origin, "relay/a", "t");

  // No group yet.
  EXPECT_EQ(track->AppendFrame("x").status().code(), absl::StatusCode::kFailedPrecondition);
  // A single-frame group is complete: nothing may join it.
  track->WriteFrame("one");
  EXPECT_EQ(track->AppendFrame("x").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(DrainFrames(*consumer), ElementsAre("0.0:one!"));
}

TEST(OriginGroupTest, AGroupHoldsAtMostMaxGroupFrames) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  track->StartGroup("s");
  for (size_t i = 1; i < TrackProducer::kMaxGroupFrames; ++i) {
    ASSERT_TRUE(track->AppendFrame(absl::StrCat("d", i)).ok()) << i;
  }
  absl::StatusOr<uint32_t> full = track->AppendFrame("over");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(track->latest_group().size(), TrackProducer::kMaxGroupFrames);
  EXPECT_EQ(*track->latest()->frame, absl::StrCat("d", TrackProducer::kMaxGroupFrames - 1));
  // A new group starts empty again.
  EXPECT_EQ(track->StartGroup("s1"), 1u);
  EXPECT_EQ(track->AppendFrame("d").value(), 1u);
}

TEST(OriginGroupTest, LateSubscriberGetsTheLatestGroupFromItsFirstFrame) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  track->StartGroup("a0");
  ASSERT_TRUE(track->AppendFrame("a1").ok());
  track->StartGroup("b0");
  ASSERT_TRUE(track->AppendFrame("b1").ok());
  ASSERT_TRUE(track->AppendFrame("b2").ok());

  // Arrives mid-group: every frame of group 1 so far, then the rest.
  auto late = MustSubscribe(origin, "relay/a", "t");
  EXPECT_THAT(DrainFrames(*late), ElementsAre("1.0:b0", "1.1:b1", "1.2:b2"));
  ASSERT_TRUE(track->AppendFrame("b3").ok());
  track->StartGroup("c0");
  EXPECT_THAT(DrainFrames(*late), ElementsAre("1.3:b3", "2.0:c0"));
}

TEST(OriginGroupTest, EndingTheTrackEndsTheOpenGroup) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  auto consumer = MustSubscribe(origin, "relay/a", "t");
  track->StartGroup("a0");
  ASSERT_TRUE(track->AppendFrame("a1").ok());
  broadcast.reset();
  EXPECT_FALSE(consumer->ended());  // two frames still to read
  EXPECT_THAT(DrainFrames(*consumer), ElementsAre("0.0:a0", "0.1:a1"));
  EXPECT_TRUE(consumer->ended());
}

// A consumer that does not read keeps at most kMaxPending groups: the
// oldest go whole, and the newest are there from their frame 0.
TEST(OriginGroupTest, SlowConsumerSkipsWholeGroupsPastTheGroupBound) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  auto consumer = MustSubscribe(origin, "relay/a", "t");
  constexpr size_t kGroups = TrackConsumer::kMaxPending + 5;
  for (size_t g = 0; g < kGroups; ++g) {
    track->StartGroup(absl::StrCat(g, "/0"));
    ASSERT_TRUE(track->AppendFrame(absl::StrCat(g, "/1")).ok());
    ASSERT_TRUE(track->AppendFrame(absl::StrCat(g, "/2")).ok());
  }
  EXPECT_EQ(consumer->dropped(), 5u);
  EXPECT_EQ(consumer->pending(), 3 * TrackConsumer::kMaxPending);
  std::vector<std::string> frames = DrainFrames(*consumer);
  ASSERT_EQ(frames.size(), 3 * TrackConsumer::kMaxPending);
  for (size_t i = 0; i < frames.size(); ++i) {
    const size_t group = 5 + i / 3;
    EXPECT_EQ(frames[i], absl::StrCat(group, ".", i % 3, ":", group, "/", i % 3)) << i;
  }
}

// Large groups meet the frame bound before the group bound: whole groups
// still go, never part of one, and the group being written is kept.
TEST(OriginGroupTest, SlowConsumerSkipsWholeGroupsPastTheFrameBound) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  auto consumer = MustSubscribe(origin, "relay/a", "t");
  constexpr size_t kFrames = TrackProducer::kMaxGroupFrames;
  constexpr size_t kGroups = TrackConsumer::kMaxPendingFrames / kFrames + 3;
  for (size_t g = 0; g < kGroups; ++g) {
    track->StartGroup(absl::StrCat(g));
    for (size_t i = 1; i < kFrames; ++i) ASSERT_TRUE(track->AppendFrame(absl::StrCat(g, "/", i)).ok());
    EXPECT_LE(consumer->pending(), TrackConsumer::kMaxPendingFrames) << g;
  }
  EXPECT_EQ(consumer->dropped(), 3u);
  EXPECT_EQ(consumer->pending(), TrackConsumer::kMaxPendingFrames);
  std::optional<Group> first = consumer->Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->sequence, 3u);
  EXPECT_EQ(first->index, 0u);
}

// A consumer that read part of a group and then falls behind loses the rest
// of that group, and resumes at a later group's frame 0.
TEST(OriginGroupTest, PartlyReadGroupIsSkippedToALaterGroupStart) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "t");
  auto consumer = MustSubscribe(origin, "relay/a", "t");
  track->StartGroup("a0");
  ASSERT_TRUE(track->AppendFrame("a1").ok());
  ASSERT_TRUE(track->AppendFrame("a2").ok());
  ASSERT_EQ(DrainFrames(*consumer).size(), 0u + 3u);
  ASSERT_TRUE(track->AppendFrame("a3").ok());
  for (size_t g = 1; g <= TrackConsumer::kMaxPending; ++g) track->WriteFrame(absl::StrCat("g", g));
  EXPECT_EQ(consumer->dropped(), 1u);
  std::optional<Group> next = consumer->Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->sequence, 1u);
  EXPECT_EQ(next->index, 0u);
}

}  // namespace
}  // namespace moq_stats
