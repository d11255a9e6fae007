// /metrics seen by a real Prometheus (Debian's prometheus, a private instance
// on loopback scraping the real daemon every second): the level series carry
// what `moq-stats bump` bumped, rate() and increase() agree with it, and a
// sidecar restart on the same checkpoint is no counter reset. promtool
// checks the exposition.

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/client/test_tools/cli_runner.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/prometheus_server.h"

namespace moq_stats::integration {
namespace {

using ::moq_stats::cli::test::RunCli;

bool Installed(const char* path) { return access(path, X_OK) == 0; }

// The series of one level's external publisher counters.
std::string Series(const std::string& family, const std::string& level) {
  return absl::StrCat(family, R"({job="moq-stats-sidecar",level=")", level,
                      R"(",tier="external",role="publisher",node=""})");
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Installed(kPrometheusBinary) || !Installed(kPromtoolBinary)) {
      GTEST_SKIP() << kPrometheusBinary << " or " << kPromtoolBinary
                   << " is missing: install Debian's prometheus (scripts/install-deps.sh does)";
    }
  }

  // `moq-stats bump` on the daemon: one broadcast and one track opened,
  // the sums bumped, both closed.
  void Bump(const DaemonProcess& daemon, const std::string& path, uint64_t bytes, uint64_t frames, uint64_t groups) {
    auto r = RunCli({"--target=" + daemon.target(), "bump", "--path=" + path, absl::StrCat("--bytes=", bytes),
                     absl::StrCat("--frames=", frames), absl::StrCat("--groups=", groups)});
    ASSERT_EQ(r.exit_code, 0) << r.description;
  }
};

TEST_F(PrometheusTest, PromtoolAcceptsTheExposition) {
  DaemonProcess daemon({"--stats-levels=2", "--stats-node=lon"});
  ASSERT_TRUE(daemon.Start());
  Bump(daemon, "live/cam\"1", 10, 1, 1);  // a level key that needs escaping
  absl::StatusOr<HttpResponse> metrics = HttpGet(daemon.admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->status, 200);
  ASSERT_NE(metrics->body.find(R"(level="live/cam\"1")"), std::string::npos) << metrics->body;
  CommandResult check = RunProgram({kPromtoolBinary, "check", "metrics"}, metrics->body, daemon.dir());
  EXPECT_EQ(check.exit_code, 0) << "promtool check metrics:\n" << check.out << check.err;
}

TEST_F(PrometheusTest, TotalsAndRatesMatchWhatWasBumpedAcrossARestart) {
  DaemonProcess daemon({"--stats-levels=2"});
  ASSERT_TRUE(daemon.Start());
  PrometheusServer prometheus({absl::StrCat("127.0.0.1:", daemon.admin_port())});
  ASSERT_TRUE(prometheus.Start());
  auto equals = [](double want) { return [want](double v) { return v == want; }; };
  auto up = prometheus.WaitFor(R"(up{job="moq-stats-sidecar"})", equals(1));
  ASSERT_TRUE(up.ok) << up.why << "\n" << prometheus.Log();

  // Totals per level: every level of a path gets its bumps.
  Bump(daemon, "live/cam1", 1000, 10, 2);
  Bump(daemon, "vod/film", 500, 5, 1);
  struct Want {
    std::string level;
    double bytes, frames, groups;
  };
  for (const Want& w : std::vector<Want>{{"", 1500, 15, 3},
                                         {"live", 1000, 10, 2},
                                         {"live/cam1", 1000, 10, 2},
                                         {"vod", 500, 5, 1},
                                         {"vod/film", 500, 5, 1}}) {
    auto bytes = prometheus.WaitFor(Series("moq_stats_level_bytes_total", w.level), equals(w.bytes));
    EXPECT_TRUE(bytes.ok) << "level \"" << w.level << "\": " << bytes.last.value_or(-1) << " " << bytes.why;
    EXPECT_EQ(prometheus.Value(Series("moq_stats_level_frames_total", w.level)), w.frames) << w.level;
    EXPECT_EQ(prometheus.Value(Series("moq_stats_level_groups_total", w.level)), w.groups) << w.level;
    EXPECT_EQ(prometheus.Value(Series("moq_stats_level_broadcasts_opened_total", w.level)), w.level.empty() ? 2 : 1);
    EXPECT_EQ(prometheus.Value(Series("moq_stats_level_subscriptions_closed_total", w.level)), w.level.empty() ? 2 : 1);
    EXPECT_EQ(prometheus.Value(Series("moq_stats_level_subscriptions_open", w.level)), 0);
  }
  // Nothing else bumped: the other (tier, role) series are there, at zero.
  EXPECT_EQ(prometheus.Value(R"(sum(moq_stats_level_bytes_total{role="subscriber"}))"), 0);
  EXPECT_EQ(prometheus.Value(R"(count(moq_stats_level_bytes_total))"), 5 * 4);

  // Steady traffic on live/cam1, half of it before a restart and half after.
  // Each bump waits until Prometheus has scraped it.
  const absl::Time start = absl::Now();
  constexpr int kBumps = 4;
  constexpr uint64_t kBytes = 40000;
  double expected = 1000;
  const std::string cam = Series("moq_stats_level_bytes_total", "live/cam1");
  auto bump_and_wait = [&] {
    Bump(daemon, "live/cam1", kBytes, 1, 1);
    expected += kBytes;
    auto seen = prometheus.WaitFor(cam, equals(expected));
    ASSERT_TRUE(seen.ok) << "want " << expected << ", last " << seen.last.value_or(-1) << " " << seen.why;
  };
  for (int i = 0; i < kBumps; ++i) bump_and_wait();

  // SIGTERM (final checkpoint), then the same daemon on the same directory.
  ASSERT_EQ(daemon.Terminate(), 0) << daemon.Log();
  auto down = prometheus.WaitFor(R"(up{job="moq-stats-sidecar"})", equals(0));
  EXPECT_TRUE(down.ok) << "Prometheus never saw the sidecar down";
  ASSERT_TRUE(daemon.Restart()) << daemon.Log();
  up = prometheus.WaitFor(R"(up{job="moq-stats-sidecar"})", equals(1));
  ASSERT_TRUE(up.ok) << up.why;
  // The first scrape after the restart already has the restored totals.
  EXPECT_EQ(prometheus.Value(cam), expected);
  for (int i = 0; i < kBumps; ++i) bump_and_wait();
  // One more scrape with nothing new, so the window ends flat.
  const absl::Time settled = absl::Now() + absl::Seconds(2);
  while (absl::Now() < settled) absl::SleepFor(absl::Milliseconds(100));
  const absl::Time end = absl::Now();

  // The whole run in one window: no reset, and increase() is what was bumped
  // (Prometheus extrapolates to the window's edges, at most about one scrape
  // interval of 1 s out of the window, hence the tolerance).
  const int64_t window = absl::ToInt64Seconds(end - start) + 1;
  const std::string range = absl::StrCat("[", window, "s]");
  const double bumped = 2.0 * kBumps * kBytes;
  EXPECT_EQ(prometheus.Value("resets(" + cam + range + ")", end), 0);
  EXPECT_EQ(prometheus.Value(R"(sum(resets(moq_stats_level_bytes_total)" + range + "))", end), 0);
  std::optional<double> increase = prometheus.Value("increase(" + cam + range + ")", end);
  ASSERT_TRUE(increase.has_value());
  const double tolerance = 1.5 / static_cast<double>(window);
  EXPECT_NEAR(*increase, bumped, bumped * tolerance) << "window " << window << " s";
  std::optional<double> rate = prometheus.Value("rate(" + cam + range + ")", end);
  ASSERT_TRUE(rate.has_value());
  EXPECT_NEAR(*rate, bumped / static_cast<double>(window), bumped / static_cast<double>(window) * tolerance);
  // The root got the same; vod, bumped before the window, did not move at
  // all (a reset at the restart would show its whole total again).
  EXPECT_EQ(prometheus.Value(Series("moq_stats_level_bytes_total", ""), end), 1500 + bumped);
  EXPECT_EQ(prometheus.Value("increase(" + Series("moq_stats_level_bytes_total", "vod") + range + ")", end), 0);
  EXPECT_EQ(prometheus.Value("rate(" + Series("moq_stats_level_bytes_total", "vod/film") + range + ")", end), 0);
}

}  // namespace
}  // namespace moq_stats::integration
