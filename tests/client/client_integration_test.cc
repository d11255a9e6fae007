// End to end: the relay-side library (moq_stats::Stats, public API only)
// against the real moq-stats-sidecar daemon over its unix socket. Threads
// bump guards as a relay would while the test keeps its own record of every
// bump, and the sidecar's levels (GetLevel) are compared with that record:
// exactly after a clean run and after a graceful restart, within the crash
// bound after a SIGKILL.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moqstats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using namespace std::chrono_literals;

// Short intervals, so that every wait in this file is short.
moq_stats::Options FastOptions() {
  moq_stats::Options options;
  options.relay_name = "client-integration-test";
  options.flush_interval = 10ms;
  options.reconnect_min = 20ms;
  options.reconnect_max = 200ms;
  return options;
}

// Polls `done` every 5 ms for at most `timeout`; whether it held.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::string ShowCounters(const moq_stats::ClientCounters& c) {
  return absl::StrCat("{connected ", c.connected, ", batches_sent ", c.batches_sent, ", batches_acked ",
                      c.batches_acked, ", deltas_sent ", c.deltas_sent, ", reconnects ", c.reconnects, ", resyncs ",
                      c.resyncs, ", live_handles ", c.live_handles, ", pending_batches ", c.pending_batches,
                      ", last_error \"", c.last_error, "\"}");
}

// ---------------------------------------------------------------------------
// The test's own record of what the relay bumped.

// The seven counters of one role, as the test counted them.
struct Tally {
  uint64_t broadcasts = 0;
  uint64_t broadcasts_closed = 0;
  uint64_t subscriptions = 0;
  uint64_t subscriptions_closed = 0;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t groups = 0;

  Tally& operator+=(const Tally& o) {
    broadcasts += o.broadcasts;
    broadcasts_closed += o.broadcasts_closed;
    subscriptions += o.subscriptions;
    subscriptions_closed += o.subscriptions_closed;
    bytes += o.bytes;
    frames += o.frames;
    groups += o.groups;
    return *this;
  }
  pb::Snapshot ToProto() const {
    return MakeSnapshot(broadcasts, broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames, groups);
  }
};

// `a - b` field by field (b <= a).
Tally Minus(const Tally& a, const Tally& b) {
  return Tally{a.broadcasts - b.broadcasts,       a.broadcasts_closed - b.broadcasts_closed,
               a.subscriptions - b.subscriptions, a.subscriptions_closed - b.subscriptions_closed,
               a.bytes - b.bytes,                 a.frames - b.frames,
               a.groups - b.groups};
}

// The same, updated by one worker thread and read by the test's thread.
struct alignas(64) AtomicTally {
  // Relaxed: each field is a counter on its own; a reader that needs a
  // consistent cut pauses the worker first (the pause handshake orders it).
  std::atomic<uint64_t> broadcasts{0};
  std::atomic<uint64_t> broadcasts_closed{0};
  std::atomic<uint64_t> subscriptions{0};
  std::atomic<uint64_t> subscriptions_closed{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> groups{0};

  Tally Load() const {
    return Tally{broadcasts.load(std::memory_order_relaxed),    broadcasts_closed.load(std::memory_order_relaxed),
                 subscriptions.load(std::memory_order_relaxed), subscriptions_closed.load(std::memory_order_relaxed),
                 bytes.load(std::memory_order_relaxed),         frames.load(std::memory_order_relaxed),
                 groups.load(std::memory_order_relaxed)};
  }
};

void Add(std::atomic<uint64_t>& counter, uint64_t n) { counter.fetch_add(n, std::memory_order_relaxed); }

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
    return WaitUntil([this] { return paused_.load(std::memory_order_acquire) || done_.load(std::memory_order_acquire); },
                     absl::Seconds(5));
  }
  void Resume() { pause_.store(false, std::memory_order_release); }

  // What it bumped so far, per role.
  Tally Read(moq_stats::Role role) const { return tallies_[static_cast<size_t>(role)].Load(); }

 private:
  struct Broadcast {
    moq_stats::BroadcastStats stats;
    moq_stats::PublisherStats publisher;
    moq_stats::PublisherTrack track;
    moq_stats::SubscriberTrack ingest;
  };

  void Run(uint64_t iterations, bool throttle) {
    AtomicTally& pub = tallies_[static_cast<size_t>(moq_stats::Role::kPublisher)];
    AtomicTally& sub = tallies_[static_cast<size_t>(moq_stats::Role::kSubscriber)];
    std::vector<Broadcast> held(broadcasts_);
    for (int b = 0; b < broadcasts_; ++b) {
      Broadcast& h = held[b];
      h.stats = stats_.tier(tier_).broadcast(absl::StrCat(segment_, "/b", b));
      h.publisher = h.stats.publisher();
      Add(pub.broadcasts, 1);
      h.track = h.publisher.track("video");
      Add(pub.subscriptions, 1);
      h.ingest = h.stats.subscriber_track("ingest");
      Add(sub.subscriptions, 1);
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
        Add(pub.bytes, n);
        h.track.frame();
        Add(pub.frames, 1);
        if (i % 64 == 0) {
          h.track.group();
          Add(pub.groups, 1);
        }
        if (i % 8 == 0) {
          h.ingest.bytes(10);
          Add(sub.bytes, 10);
          h.ingest.frame();
          Add(sub.frames, 1);
        }
        if (i % 4096 == 0) {
          // A subscription ends and another starts.
          h.track = h.publisher.track("video");
          Add(pub.subscriptions, 1);
          Add(pub.subscriptions_closed, 1);
        }
        if (i % 65536 == 0) {
          // The broadcast guard is replaced: the new one opens first.
          h.publisher = h.stats.publisher();
          Add(pub.broadcasts, 1);
          Add(pub.broadcasts_closed, 1);
        }
      }
      if (throttle && i % 256 == 0) std::this_thread::sleep_for(200us);
    }
    for (Broadcast& h : held) {
      h.track = moq_stats::PublisherTrack();
      Add(pub.subscriptions_closed, 1);
      h.ingest = moq_stats::SubscriberTrack();
      Add(sub.subscriptions_closed, 1);
      h.publisher = moq_stats::PublisherStats();
      Add(pub.broadcasts_closed, 1);
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

pb::Tier ToProto(moq_stats::Tier tier) {
  return tier == moq_stats::Tier::kExternal ? pb::TIER_EXTERNAL : pb::TIER_INTERNAL;
}
moq_stats::Role RoleOf(pb::Role role) {
  return role == pb::ROLE_PUBLISHER ? moq_stats::Role::kPublisher : moq_stats::Role::kSubscriber;
}

// What the workers bumped on the level `key` ("" or a first segment), per
// (tier, role).
std::map<std::pair<int, int>, Tally> RecordOf(const std::vector<std::unique_ptr<Worker>>& workers,
                                              const std::string& key) {
  std::map<std::pair<int, int>, Tally> out;
  for (pb::Tier tier : kAllTiers) {
    for (pb::Role role : kAllRoles) out[{tier, role}] = Tally{};
  }
  for (const auto& w : workers) {
    if (!key.empty() && w->segment() != key) continue;
    for (pb::Role role : kAllRoles) out[{ToProto(w->tier()), role}] += w->Read(RoleOf(role));
  }
  return out;
}

// The level keys the workers count on: the root and their first segments.
std::vector<std::string> KeysOf(const std::vector<std::unique_ptr<Worker>>& workers) {
  std::vector<std::string> keys = {""};
  for (const auto& w : workers) {
    if (std::find(keys.begin(), keys.end(), w->segment()) == keys.end()) keys.push_back(w->segment());
  }
  return keys;
}

// The sidecar's level `key` equals the record exactly.
::testing::AssertionResult LevelEquals(pb::StatsService::Stub& stub, const std::string& key,
                                       const std::map<std::pair<int, int>, Tally>& record) {
  pb::Level level;
  grpc::Status status = GetLevel(stub, key, &level);
  if (!status.ok()) return ::testing::AssertionFailure() << "GetLevel \"" << key << "\": " << Describe(status);
  for (const auto& [tr, tally] : record) {
    auto tier = static_cast<pb::Tier>(tr.first);
    auto role = static_cast<pb::Role>(tr.second);
    ::testing::AssertionResult same = SnapshotEq(SnapshotOf(level, tier, role), tally.ToProto());
    if (!same) {
      return ::testing::AssertionFailure() << "level \"" << key << "\" " << TierRoleName(tier, role) << ": "
                                           << same.message();
    }
  }
  return ::testing::AssertionSuccess();
}

bool EveryLevelEquals(pb::StatsService::Stub& stub, const std::vector<std::unique_ptr<Worker>>& workers,
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
::testing::AssertionResult RootAllClosed(pb::StatsService::Stub& stub) {
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
std::optional<double> CheckpointsWritten(int admin_port) {
  auto metrics = ScrapeMetrics(admin_port);
  if (!metrics) return std::nullopt;
  auto it = metrics->find("moq_stats_checkpoints_written_total");
  if (it == metrics->end()) return std::nullopt;
  return it->second;
}

// ---------------------------------------------------------------------------

TEST(ClientIntegrationTest, HeavyMultiThreadedBumpingArrivesExactly) {
  DaemonProcess daemon({"--stats-levels=1"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());

  // Two pairs of threads; the threads of a pair share their broadcasts (one
  // handle, bumped concurrently by both).
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "heavy", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "heavy", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "peer", 4));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "peer", 4));
  const absl::Time started = absl::Now();
  for (auto& w : workers) w->Start(200000, /*throttle=*/false);
  for (auto& w : workers) w->Join();
  EXPECT_LT(absl::Now() - started, absl::Seconds(10)) << "bumping took too long";

  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) EXPECT_TRUE(LevelEquals(*stub, key, RecordOf(workers, key)));
  EXPECT_TRUE(RootAllClosed(*stub));
  EXPECT_EQ(RecordOf(workers, "")[std::make_pair(pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER)].frames, 2u * 4 * 200000);

  moq_stats::ClientCounters c = stats.counters();
  EXPECT_FALSE(c.connected) << "the session is closed";
  EXPECT_EQ(c.pending_batches, 0u);
  EXPECT_GT(c.deltas_sent, 0u);
  EXPECT_GE(c.batches_sent, 1u);
}

// Regression: ClientCore::OnAck used to add 1 to batches_acked per Ack
// message that raised the acknowledged sequence, while the sidecar coalesces
// acks (one Ack covers every batch applied while an ack was being written),
// so after a clean run batches_acked < batches_sent. Many small batches back
// to back make the sidecar coalesce acks in most runs.
TEST(ClientIntegrationTest, EveryBatchSentIsCountedAcknowledgedAfterACleanRun) {
  DaemonProcess daemon({"--stats-levels=1"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Options options = FastOptions();
  options.max_batch_entries = 4;  // one handle per batch: many batches per flush
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 100; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("many/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
    }
    for (int round = 0; round < 20; ++round) {
      for (auto& t : tracks) t.bytes(100);
      std::this_thread::sleep_for(5ms);
    }
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  moq_stats::ClientCounters c = stats.counters();
  ASSERT_EQ(c.reconnects, 0u) << "a clean run was wanted: " << ShowCounters(c);
  EXPECT_GT(c.batches_sent, 100u);
  EXPECT_EQ(c.batches_acked, c.batches_sent) << ShowCounters(c);
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "many", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(0, 0, 100, 100, 100 * 20 * 100, 0, 0)));
}

TEST(ClientIntegrationTest, DaemonRestartedMidRunKeepsCountsExactAfterSigtermAndBoundedAfterSigkill) {
  // The session must outlive each restart: a grace period far longer than
  // one. Checkpoints every 100 ms (the crash bound).
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s", "--checkpoint-interval=100ms"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "restart", 3));
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kInternal, "crash", 3));
  for (auto& w : workers) w->Start(0, /*throttle=*/true);
  auto pause_all = [&] {
    for (auto& w : workers) ASSERT_TRUE(w->Pause());
  };
  auto resume_all = [&] {
    for (auto& w : workers) w->Resume();
  };
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= 3; })) << ShowCounters(stats.counters());
  absl::SleepFor(absl::Milliseconds(200));

  // SIGTERM, then a restart on the same directory, the threads bumping all
  // along.
  EXPECT_EQ(daemon.Terminate(), 0);
  absl::SleepFor(absl::Milliseconds(100));  // bumps while the sidecar is away
  ASSERT_TRUE(daemon.Restart());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  absl::SleepFor(absl::Milliseconds(200));

  // Exact after the SIGTERM cycle: with the threads held, the sidecar comes
  // to exactly what they bumped (and never above it on the way).
  pause_all();
  {
    auto stub = daemon.NewStub();
    std::string why;
    EXPECT_TRUE(WaitUntil([&] { return EveryLevelEquals(*stub, workers, &why); }, absl::Seconds(5))) << why;
    EXPECT_EQ(stats.counters().resyncs, 0u) << "a graceful restart keeps the session";
    EXPECT_GE(stats.counters().reconnects, 1u);
  }
  resume_all();

  // SIGKILL shortly after a checkpoint was written (so that batches are
  // acknowledged after it and lost with the crash), then a restart.
  std::map<std::string, std::map<std::pair<int, int>, Tally>> before_kill;  // a second or more before it
  for (const std::string& key : KeysOf(workers)) before_kill[key] = RecordOf(workers, key);
  absl::SleepFor(absl::Milliseconds(1000));
  std::optional<double> written = CheckpointsWritten(daemon.admin_port());
  ASSERT_TRUE(written.has_value()) << "no moq_stats_checkpoints_written_total in /metrics";
  ASSERT_TRUE(WaitUntil([&] {
    std::optional<double> now = CheckpointsWritten(daemon.admin_port());
    return now && *now > *written;
  }, absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(25));
  const uint64_t acked_before_kill = stats.counters().batches_acked;
  daemon.Kill();
  ASSERT_TRUE(daemon.Restart());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().resyncs >= 1 && stats.counters().connected; }))
      << "no resync after the crash: " << ShowCounters(stats.counters());
  // Everything the resync and the lost batches could cover was bumped by now.
  pause_all();
  std::map<std::string, std::map<std::pair<int, int>, Tally>> after_resync;
  for (const std::string& key : KeysOf(workers)) after_resync[key] = RecordOf(workers, key);
  resume_all();
  absl::SleepFor(absl::Milliseconds(300));

  for (auto& w : workers) w->Stop();  // closes every guard
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  moq_stats::ClientCounters c = stats.counters();
  EXPECT_GE(c.reconnects, 2u) << ShowCounters(c);
  EXPECT_GE(c.resyncs, 1u) << ShowCounters(c);
  EXPECT_GT(c.batches_acked, acked_before_kill);

  // After the crash: never more than the relay bumped; at least what was
  // bumped a second before the kill, and at least everything but what was
  // bumped between then and the resync (what the crash can lose).
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    for (const auto& [tr, final_tally] : RecordOf(workers, key)) {
      auto tier = static_cast<pb::Tier>(tr.first);
      auto role = static_cast<pb::Role>(tr.second);
      const pb::Snapshot& got = SnapshotOf(level, tier, role);
      SCOPED_TRACE(absl::StrCat("level \"", key, "\" ", TierRoleName(tier, role)));
      const Tally& early = before_kill[key][tr];
      Tally lost_at_most = Minus(after_resync[key][tr], early);
      Tally lo = Minus(final_tally, lost_at_most);
      EXPECT_TRUE(SnapshotWithin(got, early.ToProto(), final_tally.ToProto()));
      EXPECT_TRUE(SnapshotWithin(got, lo.ToProto(), final_tally.ToProto()));
      EXPECT_TRUE(OpenAtLeastClosed(got));
    }
  }
  EXPECT_TRUE(RootAllClosed(*stub));
}

TEST(ClientIntegrationTest, ARelayThatExitsWithoutShutdownHasItsGuardsClosedAfterTheGrace) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=300ms"});
  ASSERT_TRUE(daemon.Start());
  const std::string target = daemon.target();
  const std::string path = "abandoned/live";
  std::vector<std::string> args = {MOQSTATS_ABANDONING_RELAY, target, path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // fork and exec: the child starts a gRPC of its own instead of a copy of
  // this process's threads and connections.
  pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::optional<int> exit_code;
  ASSERT_TRUE(WaitUntil([&] {
    int status = 0;
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r == child || r < 0;
  })) << "the relay did not exit within 10 s";
  if (!exit_code) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  ASSERT_EQ(exit_code, 0) << "the relay saw no batch acknowledged";

  // The sidecar saw the guards open; its grace period (300 ms) then closes
  // them. Polling GetLevel: the wait is for the daemon's timer.
  auto stub = daemon.NewStub();
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  const pb::Snapshot& opened = SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER);
  EXPECT_EQ(opened.broadcasts(), 1u);
  EXPECT_EQ(opened.subscriptions(), 2u);
  auto all_closed = [&] {
    if (!GetLevel(*stub, "", &root).ok()) return false;
    for (pb::Role role : kAllRoles) {
      const pb::Snapshot& s = SnapshotOf(root, pb::TIER_EXTERNAL, role);
      if (s.subscriptions() == 0 || s.subscriptions() != s.subscriptions_closed() ||
          s.broadcasts() != s.broadcasts_closed()) {
        return false;
      }
    }
    return true;
  };
  const absl::Time exited = absl::Now();
  EXPECT_TRUE(WaitUntil(all_closed, absl::Seconds(10))) << root.DebugString();
  EXPECT_GE(absl::Now() - exited, absl::Milliseconds(100)) << "closed before the grace period could run";
  for (pb::Role role : kAllRoles) {
    const pb::Snapshot& s = SnapshotOf(root, pb::TIER_EXTERNAL, role);
    EXPECT_EQ(s.broadcasts(), 1u) << "counted once, closed once";
    EXPECT_EQ(s.broadcasts_closed(), 1u);
  }
  EXPECT_EQ(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).subscriptions_closed(), 2u);
  EXPECT_EQ(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER).subscriptions_closed(), 1u);
  pb::Level segment;
  ASSERT_GRPC_OK(GetLevel(*stub, "abandoned", &segment));
  EXPECT_TRUE(SameCounts(segment, root));
}

TEST(ClientIntegrationTest, ASidecarDownAtStartNeverBlocksTheRelay) {
  DaemonProcess daemon({"--stats-levels=1"});  // not started yet
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  constexpr uint64_t kBumps = 1000000;
  {
    moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast("early/bird");
    ASSERT_FALSE(bs.empty());
    moq_stats::PublisherStats publisher = bs.publisher();
    moq_stats::PublisherTrack track = publisher.track("video");
    const absl::Time started = absl::Now();
    for (uint64_t i = 0; i < kBumps; ++i) {
      track.bytes(3);
      track.frame();
    }
    track.group();
    EXPECT_LT(absl::Now() - started, absl::Seconds(1)) << "1M bumps with no sidecar took too long";
    absl::SleepFor(absl::Milliseconds(100));  // a few rounds of failed connects
    moq_stats::ClientCounters c = stats.counters();
    EXPECT_FALSE(c.connected);
    EXPECT_EQ(c.live_handles, 1u);
    EXPECT_EQ(c.pending_batches, 0u);
    EXPECT_FALSE(c.last_error.empty()) << ShowCounters(c);
  }
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(stats.Shutdown(10000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(1, 1, 1, 1, 3 * kBumps, kBumps, 1)));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
  EXPECT_GE(stats.counters().reconnects, 1u);
}

// Regression: live_handles used to never go down (see
// HandlesLetGoOfAreReleasedToTheSidecar).
TEST(ClientIntegrationTest, MemoryStaysBoundedByLiveHandlesWhileTheSidecarIsDown) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Options options = FastOptions();
  options.max_inflight_batches = 3;
  options.max_batch_entries = 8;
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);
  uint64_t bytes = 0;
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 20; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("mem/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
    }
    for (auto& t : tracks) t.bytes(1);
    bytes += tracks.size();
    ASSERT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= 1; })) << ShowCounters(stats.counters());
    EXPECT_EQ(stats.counters().live_handles, 20u);

    // The sidecar goes away (gracefully, so that the counts stay checkable
    // exactly); the relay keeps bumping for a while and lets half of its
    // broadcasts go.
    EXPECT_EQ(daemon.Terminate(), 0);
    const absl::Time until = absl::Now() + absl::Milliseconds(1000);
    bool dropped = false;
    while (absl::Now() < until) {
      for (int n = 0; n < 10000; ++n) {
        for (auto& t : tracks) t.bytes(1);
        bytes += tracks.size();
      }
      if (!dropped && absl::Now() > until - absl::Milliseconds(700)) {
        tracks.resize(10);
        broadcasts.resize(10);
        dropped = true;
      }
      moq_stats::ClientCounters c = stats.counters();
      EXPECT_LE(c.pending_batches, options.max_inflight_batches) << ShowCounters(c);
      EXPECT_GE(c.live_handles, broadcasts.size());
      EXPECT_LE(c.live_handles, 20u);
      std::this_thread::sleep_for(2ms);
    }
    EXPECT_TRUE(dropped);
    EXPECT_FALSE(stats.counters().connected);
    // A handle let go of leaves the table at the next flusher round, sidecar
    // or not.
    EXPECT_TRUE(WaitUntil([&] { return stats.counters().live_handles == broadcasts.size(); }, absl::Seconds(1)))
        << "holding " << broadcasts.size() << " broadcasts: " << ShowCounters(stats.counters());
    ASSERT_TRUE(daemon.Restart());
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  EXPECT_EQ(stats.counters().pending_batches, 0u);
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "mem", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(0, 0, 20, 20, bytes, 0, 0)));
}

TEST(ClientIntegrationTest, PathsUnderThePrefixAndADisabledStatsCountNothing) {
  DaemonProcess daemon({"--stats-levels=2"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  moq_stats::Stats disabled = moq_stats::Stats::Disabled();
  moq_stats::Stats default_constructed;
  EXPECT_TRUE(stats.enabled());
  EXPECT_FALSE(disabled.enabled());
  EXPECT_FALSE(default_constructed.enabled());
  {
    moq_stats::StatsHandle external = stats.tier(moq_stats::Tier::kExternal);
    std::vector<moq_stats::BroadcastStats> empty = {
        external.broadcast(".stats"),
        external.broadcast(".stats/prefix/counted/sjc"),
        external.broadcast("//.stats//x/"),
        stats.tier(moq_stats::Tier::kInternal).broadcast(".stats/y"),
        external.broadcast(std::string(1025, 'a')),                   // over 1024 bytes
        external.broadcast("bad\xff" "utf8"),
        disabled.tier(moq_stats::Tier::kExternal).broadcast("counted/x"),
        default_constructed.tier(moq_stats::Tier::kInternal).broadcast("counted/x"),
    };
    std::string many_segments;
    for (int i = 0; i < 33; ++i) absl::StrAppend(&many_segments, i ? "/" : "", "s", i);
    empty.push_back(external.broadcast(many_segments));
    for (size_t i = 0; i < empty.size(); ++i) {
      const moq_stats::BroadcastStats& bs = empty[i];
      EXPECT_TRUE(bs.empty()) << "handle " << i;
      // Every guard of an empty handle is a no-op.
      moq_stats::PublisherStats p = bs.publisher();
      moq_stats::PublisherTrack t = p.track("v");
      t.bytes(1000);
      t.frame();
      t.group();
      moq_stats::SubscriberStats s = bs.subscriber();
      moq_stats::SubscriberTrack st = bs.subscriber_track("v");
      st.bytes(5);
    }
    // One path that does count, for contrast.
    moq_stats::BroadcastStats counted = external.broadcast("counted/x");
    ASSERT_FALSE(counted.empty());
    moq_stats::PublisherTrack t = counted.publisher_track("v");
    t.bytes(7);
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(stats.counters().live_handles, 1u) << "only the counted path has a handle";
  }
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  EXPECT_TRUE(disabled.Shutdown(1000ms));
  EXPECT_TRUE(default_constructed.Shutdown(0ms));
  moq_stats::ClientCounters off = disabled.counters();
  EXPECT_FALSE(off.connected);
  EXPECT_EQ(off.batches_sent, 0u);
  EXPECT_EQ(off.live_handles, 0u);

  auto stub = daemon.NewStub();
  std::vector<pb::Level> levels;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "", 100, &levels));
  std::vector<std::string> keys;
  for (const pb::Level& level : levels) keys.push_back(level.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"", "counted", "counted/x"}));
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER), MakeSnapshot(0, 0, 1, 1, 7, 0, 0)));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_INTERNAL, pb::ROLE_PUBLISHER), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(root, pb::TIER_INTERNAL, pb::ROLE_SUBSCRIBER), pb::Snapshot()));
}

// Graceful restarts one after the other while the relay bumps: each welcome
// may come with batches to resend (those the draining sidecar refused), which
// the library writes at once, after its open. Every count arrives exactly.
TEST(ClientIntegrationTest, ResendsAfterEveryGracefulRestartAreDelivered) {
  DaemonProcess daemon({"--stats-levels=1", "--grace=30s"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(stats, moq_stats::Tier::kExternal, "again", 8));
  for (auto& w : workers) w->Start(0, /*throttle=*/true);
  for (int cycle = 0; cycle < 4; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    const uint64_t acked = stats.counters().batches_acked;
    ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected && stats.counters().batches_acked > acked + 2; }))
        << ShowCounters(stats.counters());
    EXPECT_EQ(daemon.Terminate(), 0);
    ASSERT_TRUE(daemon.Restart());
  }
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  for (auto& w : workers) w->Stop();
  ASSERT_TRUE(stats.Shutdown(5000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  for (const std::string& key : KeysOf(workers)) EXPECT_TRUE(LevelEquals(*stub, key, RecordOf(workers, key)));
}

// Regression: ClientCore::OnWelcome used to store the sidecar's
// welcome.limits().max_batch_entries without passing it on, so SessionState
// kept splitting at Options::max_batch_entries (1024 by default). Against a
// sidecar with a lower --max-batch-entries, the first batch was refused
// (RESOURCE_EXHAUSTED) and resent on every reconnect: nothing was ever
// counted and Shutdown timed out.
TEST(ClientIntegrationTest, TheSidecarsBatchLimitFromTheWelcomeIsHonoured) {
  DaemonProcess daemon({"--stats-levels=1", "--max-batch-entries=8"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());  // 1024 entries
  {
    std::vector<moq_stats::BroadcastStats> broadcasts;
    std::vector<moq_stats::PublisherTrack> tracks;
    for (int i = 0; i < 30; ++i) {
      broadcasts.push_back(stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("limit/", i)));
      tracks.push_back(broadcasts.back().publisher_track("v"));
      tracks.back().bytes(10);
    }
  }
  EXPECT_TRUE(stats.Shutdown(3000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level level;
  grpc::Status status = GetLevel(*stub, "limit", &level);
  ASSERT_GRPC_OK(status);
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(0, 0, 30, 30, 300, 0, 0)));
}

// Regression: handles used to be never released
// (ClientCore::ReleaseUnreferencedLocked tested use_count() == 1 while
// SessionState::Tracked held a second shared_ptr). A relay going through more
// broadcast paths than the sidecar's --max-handles, holding one at a time,
// had its next define refused (RESOURCE_EXHAUSTED "the session would hold
// more than 4 handles") and resent it forever.
// Regression: in that reconnect loop the process used to abort ("pure
// virtual method called" or heap corruption): ClientCore::KickWrite, called
// by the flusher thread outside any gRPC reaction, started a write on a
// Stream without a hold, with a pointer into writes_, after releasing mu_; a
// stream ending in between had OnStreamDone clear writes_ and OnDone delete
// the Stream.
TEST(ClientIntegrationTest, HandlesLetGoOfAreReleasedToTheSidecar) {
  DaemonProcess daemon({"--stats-levels=1", "--max-handles=4"});
  ASSERT_TRUE(daemon.Start());
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), FastOptions());
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  for (int i = 0; i < 10; ++i) {
    moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast(absl::StrCat("churn/", i));
    moq_stats::PublisherStats publisher = bs.publisher();
    moq_stats::PublisherTrack track = publisher.track("v");
    track.bytes(100);
    const uint64_t acked = stats.counters().batches_acked;
    if (!WaitUntil([&] { return stats.counters().batches_acked > acked; }, absl::Seconds(2))) {
      ADD_FAILURE() << "broadcast " << i << " (holding 1 of " << i + 1 << " paths used) was never acknowledged: "
                    << ShowCounters(stats.counters());
      break;
    }
  }
  // Every broadcast let go of: gone from the table at the next flusher round.
  EXPECT_TRUE(WaitUntil([&] { return stats.counters().live_handles == 0; }, absl::Seconds(1)))
      << ShowCounters(stats.counters());
  EXPECT_TRUE(stats.Shutdown(3000ms)) << ShowCounters(stats.counters());
  auto stub = daemon.NewStub();
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "churn", &level));
  EXPECT_TRUE(SnapshotEq(SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER),
                         MakeSnapshot(10, 10, 10, 10, 1000, 0, 0)));
}

}  // namespace
}  // namespace integration
}  // namespace moqstats
