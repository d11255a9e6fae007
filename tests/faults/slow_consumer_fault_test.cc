// Faults: consumers that never read. While a relay (the C++ library) starts
// and stops a few hundred levels, two Watch streams and a MoQ subscriber
// (moq-lite over WebSocket, the daemon's --moq-listen) stop reading. What
// docs/semantics.md promises (sections 5 and 6): every queue toward a slow
// consumer is bounded, so the daemon's memory stays under a stated ceiling;
// consumers that keep reading get frames all along (a Watch stream and a MoQ
// subscriber), and a reader gets each stopped level's closing frame before
// its end; no level is lost (each churned level counts exactly what the
// relay did); closed never above open at any read.
// FAULT_SEED and SOAK_SECONDS as in every fault test.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"
#include "origin_bridge/transport/transport.h"
#include "tests/faults/test_tools/fault_env.h"
#include "tests/faults/test_tools/fault_relays.h"
#include "tests/faults/test_tools/invariant_sampler.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/integration/test_tools/watch_client.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

namespace pb = ::moq::stats::v1;
using integration::DaemonProcess;
using integration::test::FastOptions;
using integration::test::ShowCounters;
using integration::test::WaitUntil;
using ::moq_stats::bridge::test::MoqPeer;
using ::moq_stats::bridge::test::RunUntil;
using namespace std::chrono_literals;

// Levels started and stopped each cycle (one broadcast each, two levels deep).
constexpr int kChurnLevels = 200;
// The daemon's resident set at any sample. Idle it holds about 20 MiB; the
// churn, the readers and the unread consumers' bounded queues add a few
// dozen (docs/semantics.md section 6 measures 73 MiB for ten unread watchers
// over 1,000 levels).
constexpr uint64_t kRssCeilingKib = 96 * 1024;
constexpr absl::Duration kHalfCycle = absl::Milliseconds(150);  // over the 100 ms stats interval
constexpr char kTrack[] = "publisher.json";

// A moq-lite client of the daemon's --moq-listen port; its io_context runs
// only while the test pumps it, so one that is never pumped never reads.
class MoqClient {
 public:
  static std::unique_ptr<MoqClient> Connect(int port) {
    auto client = std::unique_ptr<MoqClient>(new MoqClient());
    bridge::DialTarget target;
    target.host = "127.0.0.1";
    target.port = static_cast<uint16_t>(port);
    std::unique_ptr<bridge::Transport> transport;
    bool done = false;
    bridge::AsyncDial(client->io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<bridge::Transport>> t) {
      done = true;
      EXPECT_TRUE(t.ok()) << t.status();
      if (t.ok()) transport = *std::move(t);
    });
    if (!client->Pump([&] { return done; }) || !transport) return nullptr;
    client->peer_ = std::make_unique<MoqPeer>(std::move(transport), qmux::Perspective::kClient);
    client->peer_->Start();
    if (!client->Pump([&] { return client->peer_->connection().peer_parameters().has_value(); })) return nullptr;
    return client;
  }

  bool Pump(const std::function<bool()>& done) { return RunUntil(io_, done, std::chrono::seconds(10)); }
  lite::test::LiteSubscriber& subscriber() { return peer_->subscriber(); }

  // Complete groups received on subscription `id`.
  size_t Groups(uint64_t id) {
    size_t n = 0;
    for (const auto& g : subscriber().groups()) n += g.subscribe_id == id && g.complete;
    return n;
  }

 private:
  MoqClient() = default;
  boost::asio::io_context io_;  // destroyed after the peer, whose transport is bound to it
  std::unique_ptr<MoqPeer> peer_;
};

int MoqPort(pb::StatsService::Stub& stub) {
  pb::GetInfoResponse info;
  if (!integration::GetInfo(stub, &info).ok()) return 0;
  const std::string& listen = info.bridge().serve().listen();
  int port = 0;
  if (!absl::StartsWith(listen, "127.0.0.1:") || !absl::SimpleAtoi(listen.substr(10), &port)) return 0;
  return port;
}

std::string AdvertisedPath(pb::StatsService::Stub& stub, const std::string& key) {
  pb::Level level;
  if (!integration::GetLevel(stub, key, &level).ok()) return "";
  return level.advertised_path();
}

TEST(FaultsSlowConsumer, UnreadWatchAndMoqSubscribersStayBoundedWhileReadersGetFrames) {
  ScenarioRow row{"slow_consumers"};
  Rng rng(ScenarioSeed(row.scenario));
  DaemonProcess daemon({"--stats-levels=2", "--stats-node=sjc", "--moq-listen=127.0.0.1:0"});
  ASSERT_TRUE(daemon.Start());
  InvariantSampler sampler(daemon.target());
  sampler.set_pid(daemon.pid());
  auto stub = daemon.NewStub();
  const int port = MoqPort(*stub);
  ASSERT_GT(port, 0) << "no --moq-listen port in GetInfo";

  // Consumers: a Watch reader, two Watch streams never read, a MoQ
  // subscriber that reads and one that stops reading after its first group.
  integration::WatchClient reader(daemon.channel(), ".stats", absl::Minutes(30));

  // A level that stays live all along.
  Stats steady_stats = Stats::Connect(daemon.target(), FastOptions());
  Workers steady;
  steady.push_back(std::make_unique<Worker>(steady_stats, Tier::kExternal, "steady", 1));
  steady.front()->Start(0, /*throttle=*/true);
  std::string steady_path;
  ASSERT_TRUE(WaitUntil([&] { return !(steady_path = AdvertisedPath(*stub, "steady")).empty(); }));
  std::string root_path;
  ASSERT_TRUE(WaitUntil([&] { return !(root_path = AdvertisedPath(*stub, "")).empty(); }));

  // MoQ subscribers may subscribe once the broadcasts are announced (before
  // that they are refused as not routable).
  ASSERT_TRUE(reader.WaitFor(
      [&](const integration::WatchClient::Events& events) {
        return integration::HistoryOf(events, steady_path).announced &&
               integration::HistoryOf(events, root_path).announced;
      },
      absl::Seconds(10)))
      << "the steady and root levels were never announced";
  integration::UnreadWatch unread_a(daemon.channel(), ".stats", absl::Minutes(30));
  integration::UnreadWatch unread_b(daemon.channel(), ".stats", absl::Minutes(30));
  std::unique_ptr<MoqClient> moq_reader = MoqClient::Connect(port);
  std::unique_ptr<MoqClient> moq_unread = MoqClient::Connect(port);
  ASSERT_TRUE(moq_reader && moq_unread) << "cannot connect to the MoQ listener on " << port;
  absl::StatusOr<uint64_t> read_id = moq_reader->subscriber().Subscribe(steady_path, kTrack);
  ASSERT_TRUE(read_id.ok()) << read_id.status();
  absl::StatusOr<uint64_t> unread_steady = moq_unread->subscriber().Subscribe(steady_path, kTrack);
  absl::StatusOr<uint64_t> unread_root = moq_unread->subscriber().Subscribe(root_path, kTrack);
  ASSERT_TRUE(unread_steady.ok() && unread_root.ok());
  ASSERT_TRUE(moq_unread->Pump([&] { return moq_unread->Groups(*unread_steady) >= 1; }))
      << "the unread subscriber never got its first group";
  // From here on moq_unread is never pumped again: it reads nothing.

  Stats churn = Stats::Connect(daemon.target(), FastOptions());
  const int levels = Soaking() ? kChurnLevels * 2 : kChurnLevels;
  std::vector<BroadcastStats> broadcasts;
  for (int i = 0; i < levels; ++i)
    broadcasts.push_back(churn.tier(Tier::kExternal).broadcast(absl::StrCat("churn/c", i)));
  size_t steady_frames_mid = 0;
  const absl::Time end = absl::Now() + ScenarioBudget(absl::Seconds(5));
  const int cycles = ScenarioIterations(12);
  for (int c = 0; c < cycles && absl::Now() < end; ++c) {
    SCOPED_TRACE(absl::StrCat("cycle ", c));
    {
      std::vector<PublisherStats> guards;
      std::vector<PublisherTrack> tracks;
      for (BroadcastStats& bs : broadcasts) {
        guards.push_back(bs.publisher());
        tracks.push_back(guards.back().track("video"));
        tracks.back().bytes(100 + rng() % 1000);
        tracks.back().frame();
      }
      absl::SleepFor(kHalfCycle);
      // The reading MoQ subscriber gets a new group while the others stall.
      const size_t groups = moq_reader->Groups(*read_id);
      EXPECT_TRUE(moq_reader->Pump([&] { return moq_reader->Groups(*read_id) > groups; }))
          << "the reading MoQ subscriber got no group";
    }  // every level stops
    absl::SleepFor(kHalfCycle);
    if (c == cycles / 2) steady_frames_mid = integration::HistoryOf(reader.events(), steady_path).frames.size();
    ++row.iterations;
  }
  // Every churned level's last counts: bytes and frames aside (random), one
  // broadcast and one subscription opened and closed per cycle.
  ASSERT_TRUE(WaitUntil([&] { return churn.counters().connected && churn.counters().pending_batches == 0; }));
  steady.front()->Stop();
  EXPECT_TRUE(steady_stats.Shutdown(10000ms)) << ShowCounters(steady_stats.counters());
  EXPECT_TRUE(churn.Shutdown(10000ms)) << ShowCounters(churn.counters());
  std::vector<pb::Level> listed;
  ASSERT_TRUE(integration::ListAllLevels(*stub, "churn", 500, &listed).ok());
  EXPECT_EQ(listed.size(), static_cast<size_t>(levels) + 1) << "levels lost (churn and each churn/c<i>)";
  for (const pb::Level& level : listed) {
    if (level.key() == "churn") continue;
    const pb::Snapshot& s = integration::SnapshotOf(level, pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER);
    EXPECT_EQ(s.broadcasts(), row.iterations) << level.key();
    EXPECT_EQ(s.broadcasts_closed(), row.iterations) << level.key();
    EXPECT_EQ(s.subscriptions(), row.iterations) << level.key();
    EXPECT_EQ(s.subscriptions_closed(), row.iterations) << level.key();
    EXPECT_EQ(s.frames(), row.iterations) << level.key();
    row.bumps += 5 * row.iterations;
  }
  row.bumps += TotalBumps(LedgerOf(steady, {"steady"}));

  // The Watch reader got the steady level's frames all along, and the
  // closing frame (all closed) of a churned level before its end.
  const std::string churned = AdvertisedPath(*stub, "churn/c7");
  ASSERT_FALSE(churned.empty());
  EXPECT_TRUE(reader.WaitFor(
      [&](const integration::WatchClient::Events& events) {
        return integration::HistoryOf(events, churned).ended &&
               integration::HistoryOf(events, steady_path).frames.size() > steady_frames_mid;
      },
      absl::Seconds(10)))
      << "steady frames at mid-run " << steady_frames_mid;
  integration::BroadcastHistory history = integration::HistoryOf(reader.events(), churned);
  ASSERT_FALSE(history.frames.empty());
  bool closing_seen = false;
  for (const pb::Frame& frame : history.frames) {
    if (frame.track() != kTrack) continue;
    integration::FrameCounts counts = integration::ParseFrameCounts(frame.payload());
    closing_seen = counts.ok && counts.snapshot.broadcasts() > 0 &&
                   counts.snapshot.broadcasts() == counts.snapshot.broadcasts_closed();
  }
  EXPECT_TRUE(closing_seen) << "the last publisher.json frame before the end is not the closing one";
  EXPECT_TRUE(Serving(daemon));

  sampler.Stop();
  EXPECT_TRUE(sampler.NeverClosedAboveOpen());
  EXPECT_GT(sampler.good_reads(), 0u);
  EXPECT_LT(sampler.max_rss_kib(), kRssCeilingKib);
  row.max_rss_kib = sampler.max_rss_kib();
  PrintRow(row, !::testing::Test::HasFailure());
}

}  // namespace
}  // namespace test
}  // namespace faults
}  // namespace moq_stats
