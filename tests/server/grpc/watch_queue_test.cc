// WatchQueue: what a Watch stream has still to write, coalesced per broadcast
// and bounded whatever the publishers do while the watcher does not read.

#include "server/grpc/watch_queue.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = WatchQueue::Event::Kind;

Group G(uint64_t sequence, size_t size = 8) {
  return Group{sequence, std::make_shared<const std::string>(size, static_cast<char>('a' + sequence % 26))};
}

// Every event waiting, one line each: "+path", "-path", "path track #seq".
std::vector<std::string> Drain(WatchQueue& queue) {
  std::vector<std::string> out;
  // Bounded: a queue holds at most a few events per broadcast.
  for (int i = 0; i < 100000; ++i) {
    std::optional<WatchQueue::Event> event = queue.Pop();
    if (!event) return out;
    switch (event->kind) {
      case Kind::kAnnounce:
        out.push_back("+" + event->path);
        break;
      case Kind::kEnd:
        out.push_back("-" + event->path);
        break;
      case Kind::kFrame:
        out.push_back(absl::StrCat(event->path, " ", event->track, " #", event->group.sequence));
        break;
    }
  }
  ADD_FAILURE() << "the queue never ran dry";
  return out;
}

TEST(WatchQueueTest, ABroadcastsEventsComeOutInOrder) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  ASSERT_TRUE(queue.Frame("p", "b", G(0)).ok());
  ASSERT_TRUE(queue.End("p").ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "p a #0", "p b #0", "-p"));
  EXPECT_EQ(queue.pending(), 0u);
  EXPECT_EQ(queue.ended(), 0u);
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.coalesced(), 0u);
}

TEST(WatchQueueTest, AWatcherThatKeepsUpGetsEveryFrame) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p"));
  for (uint64_t seq = 0; seq < 5; ++seq) {
    ASSERT_TRUE(queue.Frame("p", "a", G(seq)).ok());
    EXPECT_THAT(Drain(queue), ElementsAre(absl::StrCat("p a #", seq)));
  }
  EXPECT_EQ(queue.coalesced(), 0u);
  // The watcher still knows the broadcast: its end comes through.
  ASSERT_TRUE(queue.End("p").ok());
  EXPECT_THAT(Drain(queue), ElementsAre("-p"));
}

TEST(WatchQueueTest, ANewerFrameReplacesTheUnsentOneOfItsTrack) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  ASSERT_TRUE(queue.Frame("p", "b", G(0)).ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(1)).ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(2)).ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "p a #2", "p b #0"));
  EXPECT_EQ(queue.coalesced(), 2u);
}

TEST(WatchQueueTest, TheFinalFramesOfAToldRunPrecedeItsEndAndTheNextRunFollows) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "p a #0"));
  // The watcher stalls: the run ends with its final frame, a new run starts.
  ASSERT_TRUE(queue.Frame("p", "a", G(1)).ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(2)).ok());
  ASSERT_TRUE(queue.End("p").ok());
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  EXPECT_EQ(queue.ended(), 1u);
  EXPECT_THAT(Drain(queue), ElementsAre("p a #2", "-p", "+p", "p a #0"));
  EXPECT_EQ(queue.ended(), 0u);
}

TEST(WatchQueueTest, ARunTheWatcherWasNotToldOfEndsWithItsFramesOrGivesWayToANewerRun) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  ASSERT_TRUE(queue.End("p").ok());
  ASSERT_TRUE(queue.Announce("q").ok());
  ASSERT_TRUE(queue.Frame("q", "a", G(0)).ok());
  ASSERT_TRUE(queue.End("q").ok());
  // p runs again before the watcher heard of its first run: only the newer
  // run is delivered. q's run, alone, is delivered whole, closing counts
  // included.
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0, 9)).ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "p a #0", "+q", "q a #0", "-q"));
  EXPECT_EQ(queue.coalesced(), 1u);
}

TEST(WatchQueueTest, GroupsAndEndsOfBroadcastsNeverAnnouncedAreIgnored) {
  WatchQueue queue;
  EXPECT_TRUE(queue.Frame("p", "a", G(0)).ok());
  EXPECT_TRUE(queue.End("p").ok());
  EXPECT_THAT(Drain(queue), ElementsAre());
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.End("p").ok());
  EXPECT_TRUE(queue.Frame("p", "a", G(0)).ok());  // after the end: ignored
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "-p"));
}

TEST(WatchQueueTest, BroadcastsComeOutInTheOrderTheyFirstWaited) {
  WatchQueue queue;
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Announce("q").ok());
  EXPECT_THAT(Drain(queue), ElementsAre("+p", "+q"));
  ASSERT_TRUE(queue.Frame("q", "a", G(0)).ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0)).ok());
  ASSERT_TRUE(queue.Frame("q", "b", G(0)).ok());
  EXPECT_THAT(Drain(queue), ElementsAre("q a #0", "q b #0", "p a #0"));
}

// The case of the issue: 1,000 levels start and stop over and over, each run
// an announcement, four frames, a final frame and an end, and the watcher
// never reads. The queue settles at one pending state per broadcast.
TEST(WatchQueueTest, MemoryIsBoundedWhenTheWatcherNeverReads) {
  constexpr int kBroadcasts = 1000;
  constexpr int kCycles = 200;
  constexpr size_t kFrameBytes = 200;
  const std::vector<std::string> tracks = {"publisher.json", "subscriber.json", "internal/publisher.json",
                                           "internal/subscriber.json"};
  WatchQueue queue;
  // Told of every broadcast once, then the watcher stops reading.
  for (int i = 0; i < kBroadcasts; ++i) ASSERT_TRUE(queue.Announce(absl::StrFormat("l%04d", i)).ok());
  ASSERT_EQ(Drain(queue).size(), static_cast<size_t>(kBroadcasts));
  size_t bytes_after_first_cycle = 0;
  size_t most_bytes = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (int i = 0; i < kBroadcasts; ++i) {
      const std::string path = absl::StrFormat("l%04d", i);
      if (cycle > 0) {
        ASSERT_TRUE(queue.Announce(path).ok());
      }
      for (const std::string& track : tracks) ASSERT_TRUE(queue.Frame(path, track, G(0, kFrameBytes)).ok());
      ASSERT_TRUE(queue.Frame(path, tracks[0], G(1, kFrameBytes)).ok());
      ASSERT_TRUE(queue.End(path).ok());
    }
    if (cycle == 0) bytes_after_first_cycle = queue.bytes();
    most_bytes = std::max(most_bytes, queue.bytes());
    ASSERT_LE(queue.pending(), static_cast<size_t>(kBroadcasts));
    // At most two runs per broadcast: the told one's end, the latest one whole.
    ASSERT_LE(queue.ended(), static_cast<size_t>(2 * kBroadcasts));
  }
  EXPECT_TRUE(queue.status().ok()) << queue.status();
  // Per broadcast: its path, the told run's final frames, the latest run's
  // four frames.
  EXPECT_LE(most_bytes, kBroadcasts * (128 + 8 * (kFrameBytes + 64)));
  EXPECT_LE(most_bytes, 2 * bytes_after_first_cycle);
  EXPECT_GT(queue.coalesced(), static_cast<uint64_t>(kBroadcasts * (kCycles - 2)));

  // What the watcher reads once it comes back: per broadcast the told run's
  // final frames and end, then the latest run, ended.
  std::vector<std::string> events = Drain(queue);
  EXPECT_EQ(events.size(), static_cast<size_t>(kBroadcasts * (4 + 1 + 1 + 4 + 1)));
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.ended(), 0u);
}

TEST(WatchQueueTest, MoreBroadcastsEndingUnsentThanTheLimitOverflow) {
  WatchQueue queue(WatchQueueLimits{.max_ended = 100, .max_bytes = 1 << 20});
  for (int i = 0; i < 100; ++i) {
    const std::string path = absl::StrCat("b", i);
    ASSERT_TRUE(queue.Announce(path).ok());
    ASSERT_TRUE(queue.Frame(path, "a", G(0)).ok());
    ASSERT_TRUE(queue.End(path).ok());
  }
  ASSERT_TRUE(queue.Announce("b100").ok());
  absl::Status overflow = queue.End("b100");
  EXPECT_EQ(overflow.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(overflow.message()), HasSubstr("101 broadcasts ended unsent (limit 100)"));
  // It keeps nothing and takes nothing more.
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.pending(), 0u);
  EXPECT_FALSE(queue.Pop().has_value());
  EXPECT_EQ(queue.Announce("c").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(queue.Pop().has_value());
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(WatchQueueTest, MoreBytesThanTheLimitOverflow) {
  WatchQueue queue(WatchQueueLimits{.max_ended = 100, .max_bytes = 10'000});
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(0, 5'000)).ok());
  ASSERT_TRUE(queue.Frame("p", "a", G(1, 9'000)).ok());  // replaces the first
  EXPECT_EQ(queue.Frame("p", "b", G(0, 2'000)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(queue.status().message()), HasSubstr("bytes held (limit 10000)"));
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(WatchQueueTest, AFrameLargerThanTheLimitOverflowsAndIsNamed) {
  WatchQueue queue(WatchQueueLimits{.max_ended = 100, .max_bytes = 10'000});
  ASSERT_TRUE(queue.Announce("p").ok());
  ASSERT_TRUE(queue.Frame("p", "small.json", G(0, 100)).ok());
  EXPECT_EQ(queue.Frame("p", "big.json", G(1, 10'001)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(queue.status().message()),
              HasSubstr("a frame of 10001 bytes on p big.json is larger than a watch may hold (10000 bytes)"));
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_FALSE(queue.Pop().has_value());
}

}  // namespace
}  // namespace moq_stats::server
