// Faults: the checkpoint directory runs out of space. The checkpoint goes on
// a small tmpfs mounted for the test (skipped, with the reason, where
// mounting is not permitted), which is then filled up while a relay bumps.
// What docs/semantics.md promises (section 3): checkpoints are written
// atomically, so a failed one leaves the last good one whole; the sidecar
// keeps applying and acknowledging batches, reports the failure (the
// moq_stats_checkpoint_failures_total counter and an error in its log), and
// writes checkpoints again once there is space ("checkpoints are written
// again"): a SIGKILL after that loses nothing that was checkpointed.

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/faults/test_tools/fault_env.h"
#include "tests/faults/test_tools/fault_relays.h"
#include "tests/faults/test_tools/invariant_sampler.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

using integration::DaemonProcess;
using integration::TempDir;
using integration::test::FastOptions;
using integration::test::ShowCounters;
using integration::test::WaitUntil;
using namespace std::chrono_literals;

constexpr uint64_t kRssCeilingKib = 128 * 1024;

// A tmpfs of `size` mounted on a fresh directory, unmounted when this goes.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& size) {
    if (mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, absl::StrCat("size=", size, ",mode=0700").c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallTmpfs() {
    if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system is full (bounded by `limit` bytes);
// the bytes written.
uint64_t FillUp(const std::string& path, uint64_t limit) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::vector<char> block(64 * 1024, 'x');
  uint64_t written = 0;
  while (written < limit) {
    const ssize_t n = write(fd, block.data(), block.size());
    if (n <= 0) break;
    written += static_cast<uint64_t>(n);
  }
  close(fd);
  return written;
}

std::optional<double> Metric(int admin_port, const std::string& name) {
  auto metrics = integration::ScrapeMetrics(admin_port);
  if (!metrics) return std::nullopt;
  auto it = metrics->find(name);
  if (it == metrics->end()) return std::nullopt;
  return it->second;
}

TEST(FaultsFullDisk, FullCheckpointDiskKeepsServingReportsAndRecovers) {
  ScenarioRow row{"full_disk"};
  Rng rng(ScenarioSeed(row.scenario));
  SmallTmpfs disk("2m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs for the checkpoint (" << disk.error()
                 << "): the full-disk case needs CAP_SYS_ADMIN (run as root, or in a container with it)";
  }
  const std::string checkpoint = disk.path() + "/checkpoint";
  const std::string filler = disk.path() + "/filler";
  DaemonProcess daemon({"--stats-levels=1", "--grace=60s", "--checkpoint-interval=100ms",
                        absl::StrCat("--checkpoint-path=", checkpoint)});
  ASSERT_TRUE(daemon.Start());
  InvariantSampler sampler(daemon.target());
  sampler.set_pid(daemon.pid());
  Stats stats = Stats::Connect(daemon.target(), FastOptions());
  Workers workers;
  workers.push_back(std::make_unique<Worker>(stats, Tier::kExternal, "disk", 3));
  workers.front()->Start(0, /*throttle=*/true);
  const std::vector<std::string> keys = {"disk"};
  auto stub = daemon.NewStub();
  auto exact_now = [&]() -> ::testing::AssertionResult {
    if (!PauseAll(workers)) return ::testing::AssertionFailure() << "the worker did not pause";
    Readings want = LedgerOf(workers, keys);
    Readings got;
    std::string why;
    bool same = WaitUntil([&] { return ReadLevels(*stub, keys, &got, &why) && got == want; });
    ResumeAll(workers);
    if (same) return ::testing::AssertionSuccess();
    return SameReadings(got, want) << " " << why;
  };
  auto wait_metric_above = [&](const std::string& name, double than) {
    return WaitUntil([&] {
      std::optional<double> v = Metric(daemon.admin_port(), name);
      return v && *v > than;
    });
  };

  const absl::Time end = absl::Now() + ScenarioBudget(absl::Seconds(4));
  const int iterations = ScenarioIterations(2);
  for (int i = 0; i < iterations && absl::Now() < end; ++i) {
    SCOPED_TRACE(absl::StrCat("iteration ", i));
    const double failures = Metric(daemon.admin_port(), "moq_stats_checkpoint_failures_total").value_or(-1);
    ASSERT_GE(failures, 0) << "no moq_stats_checkpoint_failures_total in /metrics";
    ASSERT_TRUE(wait_metric_above("moq_stats_checkpoints_written_total", 0));

    // Full: the next checkpoints fail, and are reported.
    ASSERT_GT(FillUp(filler, 4u << 20), 0u);
    ASSERT_TRUE(wait_metric_above("moq_stats_checkpoint_failures_total", failures))
        << "a checkpoint on a full disk was not reported as failed";
    EXPECT_TRUE(absl::StrContains(daemon.Log(), "cannot write the checkpoint")) << daemon.Log();
    // ...and the sidecar keeps serving: batches applied and acknowledged,
    // reads answered, health 200.
    const uint64_t acked = stats.counters().batches_acked;
    EXPECT_TRUE(WaitUntil([&] { return stats.counters().batches_acked >= acked + 5; }))
        << ShowCounters(stats.counters());
    EXPECT_TRUE(exact_now());
    EXPECT_TRUE(Serving(daemon));
    absl::SleepFor(RandomDuration(rng, absl::ZeroDuration(), absl::Milliseconds(300)));

    // Space returns: checkpoints are written again.
    ASSERT_EQ(unlink(filler.c_str()), 0) << std::strerror(errno);
    const double written = Metric(daemon.admin_port(), "moq_stats_checkpoints_written_total").value_or(0);
    ASSERT_TRUE(wait_metric_above("moq_stats_checkpoints_written_total", written))
        << "no checkpoint written after space returned\n"
        << daemon.Log();
    EXPECT_TRUE(absl::StrContains(daemon.Log(), "checkpoints are written again")) << daemon.Log();
    ++row.iterations;
  }

  // A checkpoint written after the recovery holds everything: with the relay
  // held, a SIGKILL then loses nothing.
  ASSERT_TRUE(PauseAll(workers));
  Readings want = LedgerOf(workers, keys);
  Readings got;
  std::string why;
  ASSERT_TRUE(WaitUntil([&] { return ReadLevels(*stub, keys, &got, &why) && got == want; }))
      << SameReadings(got, want).message() << " " << why;
  const double written = Metric(daemon.admin_port(), "moq_stats_checkpoints_written_total").value_or(0);
  ASSERT_TRUE(wait_metric_above("moq_stats_checkpoints_written_total", written + 1));
  daemon.Kill();
  ++row.kills;
  ASSERT_TRUE(daemon.Restart());
  sampler.set_pid(daemon.pid());
  stub = daemon.NewStub();
  ASSERT_TRUE(ReadLevels(*stub, keys, &got, &why)) << why;
  EXPECT_TRUE(SameReadings(got, want)) << "the restored checkpoint is not the last one written";
  ResumeAll(workers);
  ASSERT_TRUE(WaitUntil([&] { return stats.counters().connected; })) << ShowCounters(stats.counters());
  workers.front()->Stop();
  EXPECT_TRUE(stats.Shutdown(10000ms)) << ShowCounters(stats.counters());
  ASSERT_TRUE(ReadLevels(*stub, keys, &got, &why)) << why;
  EXPECT_TRUE(SameReadings(got, LedgerOf(workers, keys)));
  EXPECT_TRUE(Serving(daemon));

  sampler.Stop();
  EXPECT_TRUE(sampler.NeverClosedAboveOpen());
  EXPECT_LT(sampler.max_rss_kib(), kRssCeilingKib);
  row.bumps = TotalBumps(LedgerOf(workers, keys));
  row.max_rss_kib = sampler.max_rss_kib();
  PrintRow(row, !::testing::Test::HasFailure());
}

}  // namespace
}  // namespace test
}  // namespace faults
}  // namespace moq_stats
