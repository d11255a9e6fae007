// Origin tests: notify callbacks, and concurrent writers, readers and
// SetNotify calls (run under ThreadSanitizer to find races).

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
}  // namespace moq_stats
