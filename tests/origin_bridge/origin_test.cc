#include "origin_bridge/origin.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moqstats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Reads every announcement waiting on `consumer` as "+path" / "-path".
std::vector<std::string> DrainAnnouncements(AnnouncementConsumer& consumer) {
  std::vector<std::string> out;
  while (std::optional<Announcement> a = consumer.Next()) {
    out.push_back(absl::StrCat(a->active ? "+" : "-", a->path.str()));
  }
  return out;
}

// Reads every group waiting on `consumer` as "sequence:frame".
std::vector<std::string> DrainGroups(TrackConsumer& consumer) {
  std::vector<std::string> out;
  while (std::optional<Group> g = consumer.Next()) {
    out.push_back(absl::StrCat(g->sequence, ":", *g->frame));
  }
  return out;
}

std::unique_ptr<BroadcastProducer> MustPublish(Origin& origin, std::string_view path) {
  auto producer = origin.Publish(Path(path));
  EXPECT_TRUE(producer.ok()) << producer.status();
  return producer.ok() ? std::move(producer).value() : nullptr;
}

TrackProducer* MustCreateTrack(BroadcastProducer& broadcast, std::string_view name) {
  auto track = broadcast.CreateTrack(name);
  EXPECT_TRUE(track.ok()) << track.status();
  return track.ok() ? *track : nullptr;
}

std::unique_ptr<TrackConsumer> MustSubscribe(Origin& origin, std::string_view path, std::string_view track) {
  auto consumer = origin.Subscribe(Path(path), track);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  return consumer.ok() ? std::move(consumer).value() : nullptr;
}

// --- Publishing ---

TEST(OriginTest, PublishCountsBroadcastsAndKeepsPath) {
  Origin origin;
  EXPECT_EQ(origin.broadcast_count(), 0u);
  auto a = MustPublish(origin, "/relay//a/");
  auto b = MustPublish(origin, "relay/b");
  EXPECT_EQ(a->path().str(), "relay/a");
  EXPECT_EQ(origin.broadcast_count(), 2u);
  a.reset();
  EXPECT_EQ(origin.broadcast_count(), 1u);
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

// --- Notify ---

TEST(OriginTest, TrackNotifyCalledOnGroupAndEndAndNotAfterCleared) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto consumer = MustSubscribe(origin, "relay/a", "stats");

  int calls = 0;
  std::vector<std::string> seen_in_callback;
  consumer->SetNotify([&] {
    ++calls;
    // The item is queued before the callback runs, and Next() may be called.
    while (std::optional<Group> g = consumer->Next()) seen_in_callback.push_back(*g->frame);
  });
  track->WriteFrame("f0");
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(seen_in_callback, ElementsAre("f0"));
  track->WriteFrame("f1");
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(seen_in_callback, ElementsAre("f0", "f1"));

  // Replacing the callback: only the new one runs.
  int replaced_calls = 0;
  consumer->SetNotify([&] { ++replaced_calls; });
  track->WriteFrame("f2");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(replaced_calls, 1);

  consumer->SetNotify(nullptr);
  track->WriteFrame("f3");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(replaced_calls, 1);
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("2:f2", "3:f3"));

  // The end of the track notifies too.
  consumer->SetNotify([&] { ++calls; });
  broadcast.reset();
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(consumer->ended());
}

TEST(OriginTest, AnnouncementNotifyCalledAndNotAfterCleared) {
  Origin origin;
  auto announced = origin.Announced(Path("relay"));
  int calls = 0;
  std::vector<std::string> seen_in_callback;
  announced->SetNotify([&] {
    ++calls;
    for (std::string& s : DrainAnnouncements(*announced)) seen_in_callback.push_back(std::move(s));
  });
  auto a = MustPublish(origin, "relay/a");
  auto other = MustPublish(origin, "elsewhere");  // not under the prefix
  EXPECT_EQ(calls, 1);
  a.reset();
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(seen_in_callback, ElementsAre("+relay/a", "-relay/a"));

  announced->SetNotify(nullptr);
  auto b = MustPublish(origin, "relay/b");
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(DrainAnnouncements(*announced), ElementsAre("+relay/b"));
}

TEST(OriginTest, NotifyMayWriteToAnotherTrack) {
  // A callback runs with no origin or track lock held, so it may act on the
  // origin: here it forwards every group of one track to another.
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* in = MustCreateTrack(*broadcast, "in");
  TrackProducer* out = MustCreateTrack(*broadcast, "out");
  auto in_consumer = MustSubscribe(origin, "relay/a", "in");
  auto out_consumer = MustSubscribe(origin, "relay/a", "out");
  in_consumer->SetNotify([&] {
    while (std::optional<Group> g = in_consumer->Next()) out->WriteFrame(*g->frame + "!");
  });
  in->WriteFrame("x");
  in->WriteFrame("y");
  EXPECT_THAT(DrainGroups(*out_consumer), ElementsAre("0:x!", "1:y!"));
  in_consumer->SetNotify(nullptr);
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

// --- Threads ---

// A few threads write frames while others subscribe, read, drop their
// consumers and follow announcements; run under ThreadSanitizer to find
// races. Each reader checks that what it got is in order and that every gap
// is accounted for in dropped().
TEST(OriginTest, ConcurrentWritersAndReaders) {
  constexpr int kTracks = 2;
  constexpr int kWritersPerTrack = 2;
  constexpr int kFramesPerWriter = 2000;
  constexpr int kReaders = 4;
  constexpr int kSubscriptionsPerReader = 50;

  Origin origin;
  auto announced = origin.Announced(Path("relay"));
  auto broadcast = MustPublish(origin, "relay/a");
  std::vector<TrackProducer*> tracks;
  for (int t = 0; t < kTracks; ++t) tracks.push_back(MustCreateTrack(*broadcast, absl::StrCat("t", t)));

  // A consumer kept for the whole run and read only after every writer is
  // done: it keeps the newest kMaxPending groups and counts the rest dropped.
  auto whole_run = MustSubscribe(origin, "relay/a", "t0");

  std::atomic<int> notifications{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kTracks; ++t) {
    for (int w = 0; w < kWritersPerTrack; ++w) {
      threads.emplace_back([track = tracks[t]] {
        for (int i = 0; i < kFramesPerWriter; ++i) track->WriteFrame(std::to_string(i));
      });
    }
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&origin, &notifications, r] {
      const std::string track = absl::StrCat("t", r % kTracks);
      for (int s = 0; s < kSubscriptionsPerReader; ++s) {
        auto consumer = origin.Subscribe(Path("relay/a"), track);
        ASSERT_TRUE(consumer.ok()) << consumer.status();
        (*consumer)->SetNotify([&notifications] { notifications.fetch_add(1, std::memory_order_relaxed); });
        std::optional<uint64_t> last;
        uint64_t gaps = 0;
        for (int i = 0; i < 20; ++i) {
          std::optional<Group> g = (*consumer)->Next();
          if (!g.has_value()) continue;
          ASSERT_NE(g->frame, nullptr);
          if (last.has_value()) {
            ASSERT_GT(g->sequence, *last);
            gaps += g->sequence - *last - 1;
          }
          last = g->sequence;
        }
        (*consumer)->SetNotify(nullptr);
        // Whatever is still queued is read and the gaps checked against the
        // count of dropped groups.
        while (std::optional<Group> g = (*consumer)->Next()) {
          if (last.has_value()) {
            ASSERT_GT(g->sequence, *last);
            gaps += g->sequence - *last - 1;
          }
          last = g->sequence;
        }
        // Groups may still arrive and be dropped after the drain above, but
        // only ever more of them.
        EXPECT_LE(gaps, (*consumer)->dropped());
      }
    });
  }
  // Publishing and unpublishing other broadcasts while announcements are
  // followed.
  threads.emplace_back([&origin] {
    for (int i = 0; i < 200; ++i) {
      auto other = origin.Publish(Path(absl::StrCat("relay/other", i % 3)));
      ASSERT_TRUE(other.ok()) << other.status();
      ASSERT_TRUE((*other)->CreateTrack("x").ok());
    }
  });
  threads.emplace_back([&origin] {
    for (int i = 0; i < 200; ++i) {
      auto consumer = origin.Announced(Path("relay"));
      while (consumer->Next().has_value()) {
      }
      (void)origin.broadcast_count();
    }
  });

  for (std::thread& thread : threads) thread.join();

  constexpr uint64_t kTotal = uint64_t{kWritersPerTrack} * kFramesPerWriter;
  for (TrackProducer* track : tracks) {
    ASSERT_TRUE(track->latest().has_value());
    EXPECT_EQ(track->latest()->sequence, kTotal - 1);
  }
  std::vector<uint64_t> sequences;
  while (std::optional<Group> g = whole_run->Next()) sequences.push_back(g->sequence);
  ASSERT_EQ(sequences.size(), TrackConsumer::kMaxPending);
  for (size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], kTotal - sequences.size() + i);
  // Every group was either kept or dropped.
  EXPECT_EQ(whole_run->dropped(), kTotal - TrackConsumer::kMaxPending);

  broadcast.reset();
  EXPECT_TRUE(whole_run->ended());
  // Announcements for relay/a and the other broadcasts, in a consistent order
  // per path: +a first, then each other path alternates + and -.
  std::vector<std::string> changes = DrainAnnouncements(*announced);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.front(), "+relay/a");
  EXPECT_EQ(changes.back(), "-relay/a");
  std::map<std::string, bool> active;
  for (const std::string& change : changes) {
    bool is_active = change[0] == '+';
    std::string path = change.substr(1);
    EXPECT_NE(active[path], is_active) << change;
    active[path] = is_active;
  }
}

// SetNotify called while the old callback runs on the writer's thread waits
// for it to return, and the cleared callback does not run again.
TEST(OriginTest, SetNotifyWaitsForRunningCallback) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto consumer = MustSubscribe(origin, "relay/a", "stats");

  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> set_returned{false};
  int calls = 0;  // only touched by the callback, and read after the joins
  bool set_returned_while_running = true;
  consumer->SetNotify([&] {
    if (++calls > 1) return;
    entered.Notify();
    release.WaitForNotification();
    set_returned_while_running = set_returned.load();
  });

  std::thread writer([track] { track->WriteFrame("x"); });
  entered.WaitForNotification();
  std::thread clearer([&] {
    consumer->SetNotify(nullptr);
    set_returned.store(true);
  });
  // Give a SetNotify that does not wait every chance to return early: bounded,
  // and no sleep.
  for (int i = 0; i < 100000 && !set_returned.load(); ++i) std::this_thread::yield();
  EXPECT_FALSE(set_returned.load());
  release.Notify();
  writer.join();
  clearer.join();
  EXPECT_TRUE(set_returned.load());
  EXPECT_FALSE(set_returned_while_running);

  track->WriteFrame("y");
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(DrainGroups(*consumer), ElementsAre("0:x", "1:y"));
}

// Toggling the notify callback while a writer runs: once SetNotify returns the
// old callback never runs again, so what it captured can be destroyed.
TEST(OriginTest, SetNotifyRaceWithWriter) {
  Origin origin;
  auto broadcast = MustPublish(origin, "relay/a");
  TrackProducer* track = MustCreateTrack(*broadcast, "stats");
  auto consumer = MustSubscribe(origin, "relay/a", "stats");

  std::thread writer([track] {
    for (int i = 0; i < 20000; ++i) track->WriteFrame("x");
  });
  for (int i = 0; i < 500; ++i) {
    auto retired = std::make_unique<std::atomic<bool>>(false);
    auto calls = std::make_unique<int>(0);
    consumer->SetNotify([retired = retired.get(), calls = calls.get(), &consumer] {
      EXPECT_FALSE(retired->load(std::memory_order_relaxed));
      ++*calls;  // unsynchronised on purpose: only one callback runs at a time
      consumer->Next();
    });
    consumer->SetNotify(nullptr);
    retired->store(true, std::memory_order_relaxed);
    calls.reset();  // freed while the writer may still be writing
    retired.reset();
  }
  writer.join();
  EXPECT_EQ(track->latest()->sequence, 19999u);
}

}  // namespace
}  // namespace moqstats

namespace moqstats {
namespace {

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
}  // namespace moqstats
