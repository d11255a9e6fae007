// Shared by the client_*_integration_test.cc files: short client options, a
// bounded wait, and the test's own record of what the relay bumped (Counts,
// Worker threads bumping through the public API) compared with the levels of
// the real moq-stats-sidecar daemon.

#ifndef MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLIENT_INTEGRATION_TOOLS_H_
#define MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLIENT_INTEGRATION_TOOLS_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "proto/counts_proto.h"
#include "tests/common/test_tools/counts_testing.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace test {

namespace pb = ::moq::stats::v1;
using namespace std::chrono_literals;

// Short intervals, so that every wait in this file is short.
inline moq_stats::Options FastOptions() {
  moq_stats::Options options;
  options.relay_name = "client-integration-test";
  options.flush_interval = 10ms;
  options.reconnect_min = 20ms;
  options.reconnect_max = 200ms;
  return options;
}

// Polls `done` every 5 ms for at most `timeout`; whether it held.
inline bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

inline std::string ShowCounters(const moq_stats::ClientCounters& c) {
  return absl::StrCat("{connected ", c.connected, ", batches_sent ", c.batches_sent, ", batches_acked ",
                      c.batches_acked, ", deltas_sent ", c.deltas_sent, ", reconnects ", c.reconnects, ", resyncs ",
                      c.resyncs, ", live_handles ", c.live_handles, ", pending_batches ", c.pending_batches,
                      ", last_error \"", c.last_error, "\"}");
}

// ---------------------------------------------------------------------------
// The test's own record of what the relay bumped.

// What the test counted of one role: Counts (tests/common/test_tools/
// counts_testing.h adds + and -). Updated by one worker thread and read by
// the test's thread: relaxed, each counter on its own; a reader that needs a
// consistent cut pauses the worker first (the pause handshake orders it).
struct alignas(64) AtomicTally : AtomicCounts {
  void Add(Counter counter, uint64_t n) { (*this)[counter].fetch_add(n, std::memory_order_relaxed); }
};

// One relay thread: holds a publisher guard, a publisher track and a
// subscriber track on each of its broadcasts (paths `<segment>/b<i>` in one
// tier, which other workers may share), bumps them, and now and then closes a
// track or the broadcast guard and opens a new one. Every bump is counted in
// the worker's tallies right after it is made.
class Worker {
 public:
  Worker(moq_stats::Stats stats, moq_stats::Tier tier, std::string segment, int broadcasts)
      : stats_(std::move(stats)), tier_(tier), segment_(std::move(segment)), broadcasts_(broadcasts) {}
  ~Worker() { Stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  moq_stats::Tier tier() const { return tier_; }
  const std::string& segment() const { return segment_; }

  // Runs `iterations` rounds over every broadcast (0: until Stop), sleeping
  // a little now and then when `throttle` (to leave the daemon some CPU).
  void Start(uint64_t iterations, bool throttle) {
    thread_ = std::thread([this, iterations, throttle] { Run(iterations, throttle); });
  }
  // Stops, joins, and so closes every guard.
  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Holds the worker between two bumps until Resume; returns once it is held
  // (bounded: false if it did not stop within 5 s).
  bool Pause() {
    pause_.store(true, std::memory_order_release);
    return WaitUntil(
        [this] { return paused_.load(std::memory_order_acquire) || done_.load(std::memory_order_acquire); },
        absl::Seconds(5));
  }
  void Resume() { pause_.store(false, std::memory_order_release); }

  // What it bumped so far, per role.
  Counts Read(moq_stats::Role role) const { return tallies_[static_cast<size_t>(role)].Load(); }

 private:
  struct Broadcast {
    moq_stats::BroadcastStats stats;
    moq_stats::PublisherStats publisher;
    moq_stats::PublisherTrack track;
    moq_stats::SubscriberTrack ingest;
    moq_stats::PublisherAnnounce announce;
    uint64_t path_bytes = 0;
  };

  void Run(uint64_t iterations, bool throttle) {
    AtomicTally& pub = tallies_[static_cast<size_t>(moq_stats::Role::kPublisher)];
    AtomicTally& sub = tallies_[static_cast<size_t>(moq_stats::Role::kSubscriber)];
    std::vector<Broadcast> held(broadcasts_);
    for (int b = 0; b < broadcasts_; ++b) {
      Broadcast& h = held[b];
      h.stats = stats_.tier(tier_).broadcast(absl::StrCat(segment_, "/b", b));
      h.publisher = h.stats.publisher();
      pub.Add(Counter::kBroadcasts, 1);
      h.track = h.publisher.track("video");
      pub.Add(Counter::kSubscriptions, 1);
      h.ingest = h.stats.subscriber_track("ingest");
      sub.Add(Counter::kSubscriptions, 1);
      h.path_bytes = absl::StrCat(segment_, "/b", b).size();
      h.announce = h.stats.publisher_announce();
      pub.Add(Counter::kAnnounced, 1);
      pub.Add(Counter::kAnnouncedBytes, h.path_bytes);
    }
    for (uint64_t i = 1; iterations == 0 || i <= iterations; ++i) {
      if (stop_.load(std::memory_order_relaxed)) break;
      if (pause_.load(std::memory_order_acquire)) {
        paused_.store(true, std::memory_order_release);
        while (pause_.load(std::memory_order_acquire) && !stop_.load(std::memory_order_relaxed)) {
          std::this_thread::sleep_for(1ms);
        }
        paused_.store(false, std::memory_order_release);
      }
      for (Broadcast& h : held) {
        const uint64_t n = 1 + (i & 1023);
        h.track.bytes(n);
        pub.Add(Counter::kBytes, n);
        h.track.frame();
        pub.Add(Counter::kFrames, 1);
        if (i % 64 == 0) {
          h.track.group();
          pub.Add(Counter::kGroups, 1);
        }
        if (i % 8 == 0) {
          h.ingest.bytes(10);
          sub.Add(Counter::kBytes, 10);
          h.ingest.frame();
          sub.Add(Counter::kFrames, 1);
        }
        if (i % 16 == 0) {
          h.ingest.datagram();
          sub.Add(Counter::kDatagrams, 1);
        }
        if (i % 128 == 0) {
          h.track.fetch();
          pub.Add(Counter::kFetches, 1);
        }
        if (i % 4096 == 0) {
          // A subscription ends and another starts.
          h.track = h.publisher.track("video");
          pub.Add(Counter::kSubscriptions, 1);
          pub.Add(Counter::kSubscriptionsClosed, 1);
        }
        if (i % 8192 == 0) {
          // The broadcast is announced again: the new announcement opens first.
          h.announce = h.stats.publisher_announce();
          pub.Add(Counter::kAnnounced, 1);
          pub.Add(Counter::kAnnouncedClosed, 1);
          pub.Add(Counter::kAnnouncedBytes, 2 * h.path_bytes);
        }
        if (i % 65536 == 0) {
          // The broadcast guard is replaced: the new one opens first.
          h.publisher = h.stats.publisher();
          pub.Add(Counter::kBroadcasts, 1);
          pub.Add(Counter::kBroadcastsClosed, 1);
        }
      }
      if (throttle && i % 256 == 0) std::this_thread::sleep_for(200us);
    }
    for (Broadcast& h : held) {
      h.track = moq_stats::PublisherTrack();
      pub.Add(Counter::kSubscriptionsClosed, 1);
      h.ingest = moq_stats::SubscriberTrack();
      sub.Add(Counter::kSubscriptionsClosed, 1);
      h.publisher = moq_stats::PublisherStats();
      pub.Add(Counter::kBroadcastsClosed, 1);
      h.announce = moq_stats::PublisherAnnounce();
      pub.Add(Counter::kAnnouncedClosed, 1);
      pub.Add(Counter::kAnnouncedBytes, h.path_bytes);
    }
    held.clear();
    done_.store(true, std::memory_order_release);
  }

  const moq_stats::Stats stats_;
  const moq_stats::Tier tier_;
  const std::string segment_;
  const int broadcasts_;
  std::thread thread_;
  // Relaxed: a request to stop, read once per round.
  std::atomic<bool> stop_{false};
  // Release/acquire: the pause handshake; once paused_ is seen, every bump
  // and tally before it is visible.
  std::atomic<bool> pause_{false};
  std::atomic<bool> paused_{false};
  std::atomic<bool> done_{false};
  std::array<AtomicTally, 2> tallies_;
};

inline pb::Snapshot ToProto(const Counts& counts) {
  pb::Snapshot out;
  CountsToProto(counts, &out);
  return out;
}

// What the workers bumped on the level `key` ("" or a first segment), per
// (tier, role).
inline std::map<std::pair<int, int>, Counts> RecordOf(const std::vector<std::unique_ptr<Worker>>& workers,
                                                      const std::string& key) {
  std::map<std::pair<int, int>, Counts> out;
  for (pb::Tier tier : kAllTiers) {
    for (pb::Role role : kAllRoles) out[{tier, role}] = Counts{};
  }
  for (const auto& w : workers) {
    if (!key.empty() && w->segment() != key) continue;
    for (pb::Role role : kAllRoles) out[{TierToProto(w->tier()), role}] += w->Read(*RoleFromProto(role));
  }
  return out;
}

// The level keys the workers count on: the root and their first segments.
inline std::vector<std::string> KeysOf(const std::vector<std::unique_ptr<Worker>>& workers) {
  std::vector<std::string> keys = {""};
  for (const auto& w : workers) {
    if (std::find(keys.begin(), keys.end(), w->segment()) == keys.end()) keys.push_back(w->segment());
  }
  return keys;
}

// The sidecar's level `key` equals the record exactly.
inline ::testing::AssertionResult LevelEquals(pb::StatsService::Stub& stub, const std::string& key,
                                              const std::map<std::pair<int, int>, Counts>& record) {
  pb::Level level;
  grpc::Status status = GetLevel(stub, key, &level);
  if (!status.ok()) return ::testing::AssertionFailure() << "GetLevel \"" << key << "\": " << Describe(status);
  for (const auto& [tr, tally] : record) {
    auto tier = static_cast<pb::Tier>(tr.first);
    auto role = static_cast<pb::Role>(tr.second);
    ::testing::AssertionResult same = SnapshotEq(SnapshotOf(level, tier, role), ToProto(tally));
    if (!same) {
      return ::testing::AssertionFailure()
             << "level \"" << key << "\" " << TierRoleName(tier, role) << ": " << same.message();
    }
  }
  return ::testing::AssertionSuccess();
}

inline bool EveryLevelEquals(pb::StatsService::Stub& stub, const std::vector<std::unique_ptr<Worker>>& workers,
                             std::string* why) {
  for (const std::string& key : KeysOf(workers)) {
    ::testing::AssertionResult same = LevelEquals(stub, key, RecordOf(workers, key));
    if (!same) {
      *why = same.message();
      return false;
    }
  }
  return true;
}

// Every guard the sidecar counted opened is closed, on the root.
inline ::testing::AssertionResult RootAllClosed(pb::StatsService::Stub& stub) {
  pb::Level root;
  grpc::Status status = GetLevel(stub, "", &root);
  if (!status.ok()) return ::testing::AssertionFailure() << "GetLevel \"\": " << Describe(status);
  for (pb::Tier tier : kAllTiers) {
    for (pb::Role role : kAllRoles) {
      ::testing::AssertionResult closed = AllClosed(SnapshotOf(root, tier, role));
      if (!closed) return ::testing::AssertionFailure() << TierRoleName(tier, role) << ": " << closed.message();
    }
  }
  return ::testing::AssertionSuccess();
}

// The checkpoints the daemon wrote so far, from /metrics.
inline std::optional<double> CheckpointsWritten(int admin_port) {
  auto metrics = ScrapeMetrics(admin_port);
  if (!metrics) return std::nullopt;
  auto it = metrics->find("moq_stats_checkpoints_written_total");
  if (it == metrics->end()) return std::nullopt;
  return it->second;
}

}  // namespace test
}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLIENT_INTEGRATION_TOOLS_H_
