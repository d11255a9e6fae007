// End to end: streams that never open, and more than max_sessions streams
// that open and go silent, cannot keep a relay out of the real daemon. The
// relay gets in, is never pushed out by later ones, and counts exactly; the
// silent streams cost little memory and no CPU while they wait.

#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/process_usage.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/silent_session_streams.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

constexpr int kMaxSessions = 1024;  // the daemon's default
constexpr int kNeverOpen = 100;
constexpr int kOpenThenSilent = 1100;
constexpr int kLateSilent = 200;  // after the relay is in
constexpr int kBatches = 20;
constexpr absl::Duration kWait = absl::Seconds(30);
// The daemon's default open timeout, and the slack for the 2-core machine.
constexpr absl::Duration kOpenTimeout = absl::Seconds(5);
// CPU the daemon may use over kIdleWindow while every silent stream waits:
// no timer or loop runs per stream. Measured: 40 ms, most of it the
// checkpoint written every 100 ms.
constexpr absl::Duration kIdleWindow = absl::Seconds(3);
constexpr absl::Duration kIdleCpuCeiling = absl::Milliseconds(300);
// Resident memory with the 1,024 streams still open and their empty sessions:
// measured 42 MiB, 18 MiB of it the idle daemon, some 24 KiB per stream,
// mostly gRPC's own.
constexpr uint64_t kRssCeilingKib = 96 * 1024;

pb::Batch RelayBatch(uint64_t sequence) {
  pb::Batch batch;
  batch.set_sequence(sequence);
  if (sequence == 1) {
    *batch.add_defines() = MakeDefine(1, "bounds/cam", pb::TIER_EXTERNAL);
    *batch.add_defines() = MakeDefine(2, "bounds/mic", pb::TIER_INTERNAL);
    *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 2, 0, 0, 0, 0});
  }
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 100 + sequence, 2, 1});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {0, 0, sequence % 2, 0, 7, 1, 0});
  return batch;
}

double Counter(pb::StatsService::Stub& stub, const std::string& name) {
  pb::GetInfoResponse info;
  if (!GetInfo(stub, &info).ok()) return -1;
  auto it = info.counters().find(name);
  return it == info.counters().end() ? -1 : it->second;
}

TEST(SessionBoundsIntegrationTest, SilentStreamsCannotKeepARelayOut) {
  DaemonProcess daemon({"--stats-levels=2"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const uint64_t rss_idle = ResidentKib(daemon.pid()).value_or(0);

  // On a connection of their own, as a client apart from the relay.
  SilentSessionStreams silent(NewTestChannel(daemon.target()), absl::Seconds(90));
  const absl::Time started = absl::Now();
  silent.Start(kNeverOpen, SilentSessionStreams::Mode::kNeverOpen);
  silent.Start(kOpenThenSilent, SilentSessionStreams::Mode::kOpenThenSilent, "silent-");
  // Every one gets in: each past max_sessions takes the place of an older
  // one that holds nothing.
  EXPECT_TRUE(silent.WaitWelcomed(kOpenThenSilent, kWait)) << silent.welcomed() << " welcomed";

  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("real-relay", &welcome));
  EXPECT_FALSE(welcome.resumed());
  CountModel model(2);
  for (uint64_t seq = 1; seq <= kBatches / 2; ++seq) {
    ASSERT_TRUE(relay.Send(RelayBatch(seq)));
    ASSERT_GRPC_OK(relay.WaitAck(seq));
    model.Apply(RelayBatch(seq));
  }
  // Later silent streams push out other silent ones, never the relay.
  silent.Start(kLateSilent, SilentSessionStreams::Mode::kOpenThenSilent, "late-");
  ASSERT_TRUE(silent.WaitWelcomed(kOpenThenSilent + kLateSilent, kWait)) << silent.welcomed() << " welcomed";
  for (uint64_t seq = kBatches / 2 + 1; seq <= kBatches; ++seq) {
    ASSERT_TRUE(relay.Send(RelayBatch(seq)));
    ASSERT_GRPC_OK(relay.WaitAck(seq));
    model.Apply(RelayBatch(seq));
  }
  for (const std::string& key : model.keys()) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << key << " " << TierRoleName(tier, role);
      }
    }
  }

  // The streams that never opened end at the open timeout; the silent ones
  // pushed out ended with RESOURCE_EXHAUSTED.
  const int evicted = kOpenThenSilent + 1 + kLateSilent - kMaxSessions;
  ASSERT_TRUE(silent.WaitEnded(kNeverOpen + evicted, kOpenTimeout + kWait)) << silent.ended() << " ended";
  const absl::Duration ended_after = absl::Now() - started;
  std::map<grpc::StatusCode, int> codes = silent.ended_by_code();
  EXPECT_EQ(codes[grpc::StatusCode::DEADLINE_EXCEEDED], kNeverOpen);
  EXPECT_EQ(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], evicted);
  EXPECT_EQ(silent.ended(), kNeverOpen + evicted);
  EXPECT_GE(ended_after, kOpenTimeout);
  EXPECT_EQ(Counter(*stub, "moq_stats_session_open_timeouts_total"), kNeverOpen);
  EXPECT_EQ(Counter(*stub, "moq_stats_sessions_evicted_total"), evicted);
  EXPECT_EQ(Counter(*stub, "moq_stats_sessions_known"), kMaxSessions);
  EXPECT_EQ(Counter(*stub, "moq_stats_sessions_open"), kMaxSessions);

  // What the waiting streams cost.
  const absl::Duration cpu_start = CpuTime(daemon.pid()).value_or(absl::ZeroDuration());
  absl::SleepFor(kIdleWindow);
  const absl::Duration idle_cpu = CpuTime(daemon.pid()).value_or(absl::ZeroDuration()) - cpu_start;
  const uint64_t rss = ResidentKib(daemon.pid()).value_or(0);
  std::cout << "[ measure  ] " << kOpenThenSilent + kLateSilent - evicted << " silent streams and the relay open: RSS "
            << rss << " KiB (idle daemon " << rss_idle << " KiB), CPU " << idle_cpu << " over " << kIdleWindow << "\n";
  EXPECT_LE(idle_cpu, kIdleCpuCeiling);
  EXPECT_LE(rss, kRssCeilingKib);

  // The relay still counts.
  ASSERT_TRUE(relay.Send(RelayBatch(kBatches + 1)));
  EXPECT_GRPC_OK(relay.WaitAck(kBatches + 1));
  EXPECT_GRPC_OK(relay.Close());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
