// End to end: Watch streams whose clients stop reading cost the daemon a
// bounded amount of memory and next to no CPU, while 1,000 levels start and
// stop under them, and a watcher that reads still gets every broadcast's
// final frames before its end, with exact counts.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/process_usage.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/integration/test_tools/watch_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

constexpr int kLevels = 1000;
constexpr int kUnreadWatchers = 10;
// The churn runs this long, and at most this many cycles (each one opens a
// subscription on every level, lets the publishers start, closes them and
// lets the publishers stop).
constexpr absl::Duration kChurnFor = absl::Seconds(20);
constexpr int kMaxCycles = 100;
constexpr absl::Duration kHalfCycle = absl::Milliseconds(150);  // over the 100 ms stats interval
// The daemon's resident memory may not exceed this at any sample, and may
// grow at most kRssLateGrowthKib over the last three quarters of the churn:
// it settles once every queue holds one pending state per broadcast. Idle the
// daemon holds some 18 MiB, 24 MiB through the churn with no watcher, and
// about 73 MiB with the ten unread watchers (their subscriptions and queues).
// Before the queues were bounded it grew all along: 64 MiB after the first
// cycle, 250 MiB after 58 (20 s), 330 MiB once the churn stopped.
constexpr uint64_t kRssCeilingKib = 96 * 1024;
constexpr uint64_t kRssLateGrowthKib = 8 * 1024;
// With the churn stopped, the daemon with its unread watchers may use at most
// this much CPU over kIdleWindow (10% of a core): their writers wait for
// flow control and no loop polls. Measured: 40 to 100 ms, most of it the
// checkpoint written every 100 ms.
constexpr absl::Duration kIdleWindow = absl::Seconds(3);
constexpr absl::Duration kIdleCpuCeiling = absl::Milliseconds(300);

constexpr char kWatchedKey[] = "l0007";
constexpr char kWatchedPath[] = ".stats/prefix/l0007/sjc";

std::string LevelPath(int i) { return absl::StrFormat("l%04d", i); }

// One relay session that opens and closes one subscription on each of
// kLevels levels per cycle, and the counts it expects.
class LevelChurn {
 public:
  explicit LevelChurn(const std::shared_ptr<grpc::Channel>& channel) : relay_(channel, absl::Minutes(5)) {}

  grpc::Status Start() {
    if (grpc::Status s = relay_.Open("churn-relay", nullptr); !s.ok()) return s;
    pb::Batch defines = Next();
    for (int i = 0; i < kLevels; ++i) *defines.add_defines() = MakeDefine(i + 1, LevelPath(i), pb::TIER_EXTERNAL);
    return SendAndWait(defines);
  }
  grpc::Status OpenAll() { return Bump({0, 0, 1, 0, 10, 1, 1}); }
  grpc::Status CloseAll() { return Bump({0, 0, 0, 1, 0, 0, 0}); }
  grpc::Status End() { return relay_.Close(); }
  const CountModel& model() const { return model_; }

 private:
  pb::Batch Next() {
    pb::Batch batch;
    batch.set_sequence(++sequence_);
    return batch;
  }
  grpc::Status Bump(const Bumps& bumps) {
    pb::Batch batch = Next();
    for (int i = 0; i < kLevels; ++i) *batch.add_deltas() = MakeDelta(i + 1, pb::ROLE_PUBLISHER, bumps);
    return SendAndWait(batch);
  }
  grpc::Status SendAndWait(const pb::Batch& batch) {
    if (!relay_.Send(batch)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the relay stream broke");
    grpc::Status status = relay_.WaitAck(batch.sequence(), absl::Seconds(10));
    if (status.ok()) model_.Apply(batch);
    return status;
  }

  RelayStream relay_;
  CountModel model_{1};
  uint64_t sequence_ = 0;
};

// One run of a broadcast in a watcher's events: from its announcement to its
// end, with the latest frame of each track seen in between.
struct Incarnation {
  std::map<std::string, pb::Frame> latest;
  bool ended = false;
};

std::vector<Incarnation> IncarnationsOf(const WatchClient::Events& events, const std::string& path) {
  std::vector<Incarnation> runs;
  for (const pb::WatchEvent& event : events) {
    if (event.has_announce() && event.announce().path() == path) {
      if (event.announce().active()) {
        runs.emplace_back();
      } else if (!runs.empty()) {
        runs.back().ended = true;
      }
    } else if (event.has_frame() && event.frame().path() == path && !runs.empty()) {
      runs.back().latest[event.frame().track()] = event.frame();
    }
  }
  return runs;
}

FrameCounts CountsOfTrack(const Incarnation& run, const std::string& track) {
  auto it = run.latest.find(track);
  if (it == run.latest.end()) return FrameCounts{};
  return ParseFrameCounts(it->second.payload());
}

uint64_t Rss(const DaemonProcess& daemon) { return ResidentKib(daemon.pid()).value_or(0); }

TEST(WatchSlowConsumerIntegrationTest, UnreadWatchersStayBoundedWhileLevelsChurnAndAReaderGetsFinalFrames) {
  DaemonProcess daemon({"--stats-node=sjc"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const uint64_t rss_idle = Rss(daemon);

  LevelChurn churn(daemon.channel());
  ASSERT_GRPC_OK(churn.Start());
  std::vector<std::unique_ptr<UnreadWatch>> unread;
  for (int i = 0; i < kUnreadWatchers; ++i) unread.push_back(std::make_unique<UnreadWatch>(daemon.channel(), ".stats"));
  WatchClient reader(daemon.channel(), ".stats/prefix/" + std::string(kWatchedKey), absl::Minutes(5));

  const absl::Time churn_start = absl::Now();
  const absl::Duration cpu_start = CpuTime(daemon.pid()).value_or(absl::ZeroDuration());
  uint64_t rss_peak = 0;
  std::vector<uint64_t> rss_samples;
  int cycles = 0;
  while (cycles < kMaxCycles && absl::Now() - churn_start < kChurnFor) {
    ASSERT_GRPC_OK(churn.OpenAll());
    absl::SleepFor(kHalfCycle);
    ASSERT_GRPC_OK(churn.CloseAll());
    absl::SleepFor(kHalfCycle);
    ++cycles;
    rss_samples.push_back(Rss(daemon));
    rss_peak = std::max(rss_peak, rss_samples.back());
  }
  const absl::Duration churn_time = absl::Now() - churn_start;
  const absl::Duration churn_cpu = CpuTime(daemon.pid()).value_or(absl::ZeroDuration()) - cpu_start;

  // Every publisher stops once the last close is counted.
  ASSERT_TRUE(reader.WaitFor(
      [](const WatchClient::Events& events) {
        std::vector<Incarnation> runs = IncarnationsOf(events, kWatchedPath);
        return !runs.empty() && runs.back().ended;
      },
      absl::Seconds(10)))
      << "the reading watcher did not see " << kWatchedPath << " end";
  pb::Level watched;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    ASSERT_GRPC_OK(GetLevel(*stub, kWatchedKey, &watched));
    if (!watched.publishing()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(watched.publishing());

  // CPU with every level stopped and the unread watchers still connected.
  const absl::Duration idle_start = CpuTime(daemon.pid()).value_or(absl::ZeroDuration());
  absl::SleepFor(kIdleWindow);
  const absl::Duration idle_cpu = CpuTime(daemon.pid()).value_or(absl::ZeroDuration()) - idle_start;
  const uint64_t rss_end = Rss(daemon);
  std::cout << "[ measure  ] " << cycles << " cycles of " << kLevels << " levels in " << churn_time << " with "
            << kUnreadWatchers << " unread watchers: RSS idle " << rss_idle << " KiB, peak " << rss_peak
            << " KiB, after " << rss_end << " KiB; CPU " << churn_cpu << " during the churn, " << idle_cpu << " over "
            << kIdleWindow << " once it stopped\n";
  ASSERT_GE(cycles, 10) << "the churn ran too few cycles to say anything";
  std::cout << "[ measure  ] RSS (KiB) after each cycle:";
  for (uint64_t kib : rss_samples) std::cout << " " << kib;
  std::cout << "\n";
  EXPECT_LE(rss_peak, kRssCeilingKib);
  const uint64_t rss_quarter = rss_samples[rss_samples.size() / 4];
  EXPECT_LE(rss_samples.back(), rss_quarter + kRssLateGrowthKib)
      << "RSS kept growing: " << rss_quarter << " KiB after " << rss_samples.size() / 4 << " cycles, "
      << rss_samples.back() << " KiB after " << cycles;
  EXPECT_LE(idle_cpu, kIdleCpuCeiling);

  // The reading watcher saw every run of its level end, each after a frame
  // with its subscriptions closed, and the last frames are the level's counts.
  const std::vector<Incarnation> runs = IncarnationsOf(reader.events(), kWatchedPath);
  ASSERT_FALSE(runs.empty());
  EXPECT_LE(runs.size(), static_cast<size_t>(cycles));
  for (size_t i = 0; i < runs.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("run ", i + 1, " of ", runs.size()));
    EXPECT_TRUE(runs[i].ended);
    FrameCounts last = CountsOfTrack(runs[i], "publisher.json");
    ASSERT_TRUE(last.ok) << "no publisher frame before the end";
    EXPECT_EQ(last.snapshot.subscriptions(), last.snapshot.subscriptions_closed());
  }
  const Incarnation& final_run = runs.back();
  EXPECT_EQ(final_run.latest.size(), 4u);  // a new publisher writes every track first
  FrameCounts final_counts = CountsOfTrack(final_run, "publisher.json");
  EXPECT_TRUE(SnapshotEq(final_counts.snapshot, SnapshotOf(watched, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER)));

  // Every level counted exactly what the relay sent.
  std::vector<pb::Level> levels;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "", 1000, &levels));
  EXPECT_EQ(levels.size(), static_cast<size_t>(kLevels + 1));
  for (const pb::Level& level : levels) {
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), churn.model().Expected(level.key(), tier, role)))
            << level.key() << " " << TierRoleName(tier, role);
      }
    }
  }
  EXPECT_EQ(SnapshotOf(watched, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER).subscriptions(), static_cast<uint64_t>(cycles));

  // An unread watcher is either still open, its queue bounded, or was ended
  // with RESOURCE_EXHAUSTED; what it reads now ends in the latest state.
  for (auto& watch : unread) {
    UnreadWatch::Outcome outcome = watch->ReadToEnd(absl::Milliseconds(500), absl::Seconds(10));
    std::cout << "[ measure  ] an unread watcher read " << outcome.events << " events once it read, then "
              << (outcome.ended ? Describe(outcome.status) : std::string("was still open")) << "\n";
    if (outcome.ended) {
      EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(outcome.status);
    }
    EXPECT_GT(outcome.events, 0u);
  }
  EXPECT_GRPC_OK(churn.End());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
