// Origin tests: publishing broadcasts and tracks, and following announcements.

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
using test::MustCreateTrack;
using test::MustPublish;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- Publishing ---

TEST(OriginTest, PublishCountsBroadcastsAndKeepsPath) {
  Origin origin;
  EXPECT_EQ(origin.broadcast_count(), 0u);
  auto a = MustPublish(origin, "/relay//a/");
  auto b = MustPublish(origin, "relay/b");
  EXPECT_EQ(a->path().str(), "relay/a");
  EXPECT_EQ(origin.broadcast_count(), 2u);
  EXPECT_TRUE(origin.has_broadcast(Path("relay/a/")));
  a.reset();
  EXPECT_EQ(origin.broadcast_count(), 1u);
  EXPECT_FALSE(origin.has_broadcast(Path("relay/a")));
  EXPECT_TRUE(origin.has_broadcast(Path("relay/b")));
  EXPECT_FALSE(origin.has_broadcast(Path("relay")));
}

TEST(OriginTest, DuplicatePublishIsRefused) {
  Origin origin;
  auto first = MustPublish(origin, "relay/a");
  // Same path after normalisation.
  auto second = origin.Publish(Path("//relay/a/"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("relay/a"));
  EXPECT_EQ(origin.broadcast_count(), 1u);
  // A refused publish announces nothing and does not disturb the first.
  auto announced = origin.Announced(Path());
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/a"));
}

TEST(OriginTest, RepublishAfterProducerDestroyed) {
  Origin origin;
  auto announced = origin.Announced(Path());
  auto first = MustPublish(origin, "relay/a");
  MustCreateTrack(*first, "stats")->WriteFrame("old");
  first.reset();

  auto second = MustPublish(origin, "relay/a");
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/a", "-relay/a", "+relay/a"));
  // The new broadcast starts with no tracks: the old one's are gone.
  auto missing = origin.Subscribe(Path("relay/a"), "stats");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  TrackProducer* track = MustCreateTrack(*second, "stats");
  EXPECT_EQ(track->WriteFrame("new"), 0u);
}

TEST(OriginTest, DuplicateTrackIsRefused) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  EXPECT_EQ(track->name(), "stats");
  auto again = broadcast->CreateTrack("stats");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("stats"));
  TrackProducer* other = MustCreateTrack(*broadcast, "other");
  EXPECT_NE(other, track);
}

TEST(OriginTest, SequencesArePerTrackAndLatestIsKept) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* one = MustCreateTrack(*broadcast, "one");
  TrackProducer* two = MustCreateTrack(*broadcast, "two");
  EXPECT_FALSE(one->latest().has_value());
  EXPECT_EQ(one->WriteFrame("a"), 0u);
  EXPECT_EQ(one->WriteFrame("b"), 1u);
  EXPECT_EQ(two->WriteFrame("x"), 0u);
  EXPECT_EQ(one->WriteFrame("c"), 2u);
  std::optional<Group> latest = one->latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->sequence, 2u);
  EXPECT_EQ(*latest->frame, "c");
  EXPECT_EQ(*two->latest()->frame, "x");
}

// --- Announcements ---

TEST(OriginTest, AnnouncedListsExistingThenLiveThenUnannounce) {
  Origin origin;
  auto b = MustPublish(origin, "relay/b");
  auto a = MustPublish(origin, "relay/a");

  auto announced = origin.Announced(Path());
  EXPECT_EQ(announced->prefix().str(), "");
  // Existing broadcasts first, sorted by path.
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/a", "+relay/b"));
  EXPECT_THAT(DrainAnnouncements(*announced), IsEmpty());

  auto c = MustPublish(origin, "relay/c");
  b.reset();
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/c", "-relay/b"));
}

TEST(OriginTest, AnnouncedNeverDrops) {
  Origin origin;
  auto announced = origin.Announced(Path());
  constexpr int kCount = 3 * static_cast<int>(TrackConsumer::kMaxPending);
  for (int i = 0; i < kCount; ++i) MustPublish(origin, absl::StrCat("b", i));
  // Each publish is announced then, as its producer is dropped, unannounced.
  EXPECT_EQ(DrainAnnouncements(*announced).size(), 2u * kCount);
}

TEST(OriginTest, AnnouncedFiltersByWholeSegments) {
  Origin origin;
  auto foo = MustPublish(origin, "foo");
  auto foo_x = MustPublish(origin, "foo/x");
  auto foobar_x = MustPublish(origin, "foobar/x");
  auto other = MustPublish(origin, "other/foo");

  auto by_foo = origin.Announced(Path("foo"));
  auto by_foo_slash = origin.Announced(Path("/foo/"));
  auto by_foo_x = origin.Announced(Path("foo/x"));
  auto all = origin.Announced(Path());
  EXPECT_THAT(DrainAnnouncements(*by_foo), ElementsAre("+foo", "+foo/x"));
  EXPECT_THAT(DrainAnnouncements(*by_foo_slash), ElementsAre("+foo", "+foo/x"));
  EXPECT_THAT(DrainAnnouncements(*by_foo_x), ElementsAre("+foo/x"));
  EXPECT_THAT(DrainAnnouncements(*all), ElementsAre("+foo", "+foo/x", "+foobar/x", "+other/foo"));

  // Live changes are filtered the same way.
  auto foobar_y = MustPublish(origin, "foobar/y");
  auto foo_y = MustPublish(origin, "foo/y/z");
  foobar_x.reset();
  foo_x.reset();
  EXPECT_THAT(DrainAnnouncements(*by_foo), ElementsAre("+foo/y/z", "-foo/x"));
  EXPECT_THAT(DrainAnnouncements(*by_foo_x), ElementsAre("-foo/x"));
  EXPECT_THAT(DrainAnnouncements(*all), ElementsAre("+foobar/y", "+foo/y/z", "-foobar/x", "-foo/x"));
}

TEST(OriginTest, DestroyedAnnouncementConsumerIsPruned) {
  Origin origin;
  auto kept = origin.Announced(Path());
  origin.Announced(Path()).reset();
  auto a = MustPublish(origin, "a");
  a.reset();
  EXPECT_THAT(DrainAnnouncements(*kept), ElementsAre("+a", "-a"));
}

TEST(OriginPublishWithTracksTest, TracksExistWhenTheAnnouncementArrives) {
  Origin origin;
  auto announcements = origin.Announced(Path(""));
  std::vector<std::string> subscribed;
  // Subscribes from inside the announcement's notification, as a watcher
  // does: the tracks must already be there.
  announcements->SetNotify([&] {
    while (auto a = announcements->Next()) {
      if (a->active && origin.Subscribe(a->path, "t1").ok() && origin.Subscribe(a->path, "t2").ok()) {
        subscribed.push_back(a->path.str());
      }
    }
  });
  auto broadcast = origin.Publish(Path("b"), {"t1", "t2"});
  ASSERT_TRUE(broadcast.ok()) << broadcast.status();
  EXPECT_EQ(subscribed, std::vector<std::string>{"b"});
  ASSERT_NE((*broadcast)->track("t1"), nullptr);
  EXPECT_EQ((*broadcast)->track("nope"), nullptr);
  announcements->SetNotify(nullptr);
}

TEST(OriginPublishWithTracksTest, ATrackNamedTwiceIsRefusedAndNothingIsAnnounced) {
  Origin origin;
  auto announcements = origin.Announced(Path(""));
  auto broadcast = origin.Publish(Path("b"), {"t", "t"});
  EXPECT_EQ(broadcast.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(announcements->Next().has_value());
  EXPECT_EQ(origin.broadcast_count(), 0u);
}

}  // namespace
}  // namespace moq_stats
