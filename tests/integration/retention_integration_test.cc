// End to end: retention against the real daemon. A level freed by retention
// and created again is recognisable through gRPC (a later created_unix_ms,
// counters from zero), the root level is never freed, and a restart keeps
// every level's creation time.

#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

// One session that opens a broadcast and a subscription on `path`, sends
// `bytes` and closes everything again.
void CountOnce(DaemonProcess& daemon, const std::string& session, const std::string& path, uint64_t bytes) {
  RelayStream relay(daemon.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open(session, &welcome));
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, path, pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 1, 1, 1, bytes, 1, 1});
  ASSERT_TRUE(relay.Send(batch));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  ASSERT_GRPC_OK(relay.Close());
}

// Waits (bounded) until GetLevel(`key`) answers NOT_FOUND.
bool WaitFreed(pb::StatsService::Stub& stub, const std::string& key, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pb::Level level;
    if (GetLevel(stub, key, &level).error_code() == grpc::StatusCode::NOT_FOUND) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

TEST(RetentionIntegrationTest, ARecreatedLevelIsANewIncarnationAndTheRootIsKept) {
  DaemonProcess daemon({"--stats-levels=1", "--stats-interval=100ms", "--stats-retention=300ms"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const int64_t before_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_NO_FATAL_FAILURE(CountOnce(daemon, "first", "gone/x", 40));
  pb::Level first;
  ASSERT_GRPC_OK(GetLevel(*stub, "gone", &first));
  pb::Level root_first;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root_first));
  EXPECT_GE(int64_t(first.created_unix_ms()), before_ms - 1000);
  EXPECT_LE(int64_t(first.created_unix_ms()), absl::ToUnixMillis(absl::Now()) + 1000);
  EXPECT_EQ(first.external_publisher().bytes(), 40u);

  // Idle past the retention: "gone" is freed, the root with its totals is not.
  ASSERT_TRUE(WaitFreed(*stub, "gone", absl::Seconds(10))) << "\"gone\" was never freed";
  absl::SleepFor(absl::Milliseconds(600));  // two more retention times for the root
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_EQ(root.external_publisher().bytes(), 40u);
  EXPECT_EQ(root.created_unix_ms(), root_first.created_unix_ms());

  // Created again: from zero, and a later creation time says so.
  absl::SleepFor(absl::Milliseconds(5));
  ASSERT_NO_FATAL_FAILURE(CountOnce(daemon, "second", "gone/y", 2));
  pb::Level second;
  ASSERT_GRPC_OK(GetLevel(*stub, "gone", &second));
  EXPECT_EQ(second.external_publisher().bytes(), 2u);
  EXPECT_GT(second.created_unix_ms(), first.created_unix_ms());
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_EQ(root.external_publisher().bytes(), 42u);
  EXPECT_EQ(root.created_unix_ms(), root_first.created_unix_ms());

  // A restart (SIGTERM, checkpoint restored) keeps both incarnations.
  ASSERT_EQ(daemon.Terminate(), 0);
  ASSERT_TRUE(daemon.Restart());
  stub = daemon.NewStub();
  pb::Level restored;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &restored));
  EXPECT_EQ(restored.created_unix_ms(), root_first.created_unix_ms());
  EXPECT_EQ(restored.external_publisher().bytes(), 42u);
  ASSERT_GRPC_OK(GetLevel(*stub, "gone", &restored));
  EXPECT_EQ(restored.created_unix_ms(), second.created_unix_ms());
}

TEST(RetentionIntegrationTest, ZeroRetentionKeepsEveryLevel) {
  DaemonProcess daemon({"--stats-levels=2", "--stats-interval=100ms", "--stats-retention=0"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  ASSERT_NO_FATAL_FAILURE(CountOnce(daemon, "only", "kept/a/b", 7));
  // Long enough for several ticks: the publishers stop, nothing is freed.
  absl::SleepFor(absl::Seconds(1));
  for (const char* key : {"", "kept", "kept/a"}) {
    SCOPED_TRACE(key);
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    EXPECT_EQ(level.external_publisher().bytes(), 7u) << key;
    EXPECT_FALSE(level.publishing()) << key;
  }
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
