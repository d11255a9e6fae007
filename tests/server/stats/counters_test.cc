#include "server/stats/counters.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

TEST(CountersTest, GuardStyleBumps) {
  Counters c;
  c.OpenBroadcast();
  c.OpenSubscription();
  c.AddBytes(100);
  c.AddFrames(2);
  c.AddGroups(1);
  EXPECT_TRUE(c.active());
  c.CloseSubscription();
  c.CloseBroadcast();
  EXPECT_FALSE(c.active());
  EXPECT_EQ(c.Load(), (Counts{1, 1, 1, 1, 100, 2, 1}));
}

TEST(CountersTest, ApplyAddsEveryField) {
  Counters c;
  c.Add(Counts{2, 1, 5, 3, 1000, 10, 4});
  c.Add(Counts{0, 1, 0, 2, 1, 1, 1});
  EXPECT_EQ(c.Load(), (Counts{2, 2, 5, 5, 1001, 11, 5}));
  EXPECT_FALSE(c.active());
}

TEST(CountersTest, DeltaEmpty) {
  EXPECT_TRUE(Counts{}.empty());
  Counts d;
  d.groups = 1;
  EXPECT_FALSE(d.empty());
}

TEST(CountersTest, ReaderNeverSeesMoreClosedThanOpened) {
  Counters c;
  std::atomic<bool> reading{false};
  std::atomic<bool> done{false};
  constexpr int kOps = 200000;
  std::thread writer([&] {
    // Starts once the reader reads, so the two overlap.
    while (!reading.load()) std::this_thread::yield();
    for (int i = 0; i < kOps; ++i) {
      c.OpenSubscription();
      c.OpenBroadcast();
      c.CloseSubscription();
      c.CloseBroadcast();
    }
    done.store(true);
  });
  uint64_t reads = 0;
  reading.store(true);
  while (!done.load() || reads < 1000) {
    Counts s = c.Load();
    ASSERT_GE(s.subscriptions, s.subscriptions_closed);
    ASSERT_GE(s.broadcasts, s.broadcasts_closed);
    ++reads;
  }
  writer.join();
  EXPECT_EQ(c.Load().subscriptions, static_cast<uint64_t>(kOps));
}

}  // namespace
}  // namespace moq_stats::server
