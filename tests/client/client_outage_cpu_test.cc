// What a missing sidecar costs the relay in CPU: the library connected to a
// unix socket where nothing listens, measured while the outage lasts and
// while Shutdown waits out its deadline, through the C++ API and the C ABI.
//
// These tests measure real time on purpose: the cost is CPU time per second
// of wall time. Each measurement is a few seconds long and bounded.

#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq_stats/moq_stats.h"
#include "moq_stats/stats.h"

namespace moq_stats {
namespace {

using namespace std::chrono_literals;

// The most CPU the library may use per unit of wall time while the sidecar
// is away: 5 %. A spinning thread uses 100 %.
constexpr double kMaxCpuShare = 0.05;

// CPU time (user and system, every thread) this process used so far.
absl::Duration ProcessCpu() {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    ADD_FAILURE() << "getrusage: " << std::strerror(errno);
    return absl::ZeroDuration();
  }
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

struct Cost {
  absl::Duration wall;
  absl::Duration cpu;
  double share() const { return absl::FDivDuration(cpu, wall); }
};

std::string Describe(const Cost& cost) {
  return absl::StrCat(absl::FormatDuration(cost.cpu), " of CPU in ", absl::FormatDuration(cost.wall), " (",
                      static_cast<int>(cost.share() * 1000) / 10.0, " %)");
}

// Runs `f` and measures it.
template <typename F>
Cost Measure(F f) {
  const absl::Time start = absl::Now();
  const absl::Duration cpu_start = ProcessCpu();
  f();
  return Cost{absl::Now() - start, ProcessCpu() - cpu_start};
}

// A unix socket path in a fresh directory, where nothing listens.
class AbsentSidecar {
 public:
  AbsentSidecar() {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/moq-cpu-XXXXXX");
    if (mkdtemp(dir_.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << dir_ << ": " << std::strerror(errno);
  }
  ~AbsentSidecar() { rmdir(dir_.c_str()); }
  AbsentSidecar(const AbsentSidecar&) = delete;
  AbsentSidecar& operator=(const AbsentSidecar&) = delete;

  std::string target() const { return "unix:" + dir_ + "/absent.sock"; }

 private:
  std::string dir_;
};

// A relay's traffic on one broadcast: guards open, a few bumps, so that the
// library has counts it cannot deliver.
void Bump(const Stats& stats, int frames) {
  BroadcastStats broadcast = stats.tier(Tier::kExternal).broadcast("cpu/test");
  PublisherStats publisher = broadcast.publisher();
  PublisherTrack track = publisher.track("video");
  for (int i = 0; i < frames; ++i) {
    track.bytes(1200);
    track.frame();
  }
  track.group();
}

TEST(ClientOutageCpuTest, AnOutageCostsNearlyNoCpu) {
  AbsentSidecar sidecar;
  Stats stats = Stats::Connect(sidecar.target());  // the defaults a relay would use
  Bump(stats, 100);
  absl::SleepFor(absl::Milliseconds(200));  // the first attempts fail

  const Cost outage = Measure([] { absl::SleepFor(absl::Seconds(2)); });
  EXPECT_LT(outage.share(), kMaxCpuShare) << "during the outage: " << Describe(outage);
  EXPECT_FALSE(stats.counters().connected);

  const Cost shutdown = Measure([&] { EXPECT_FALSE(stats.Shutdown(1s)); });
  EXPECT_LT(shutdown.share(), kMaxCpuShare) << "in Shutdown: " << Describe(shutdown);
  std::cout << "outage: " << Describe(outage) << "; shutdown: " << Describe(shutdown) << "\n";
}

TEST(ClientOutageCpuTest, ShutdownWaitsOutItsDeadlineWithoutSpinning) {
  AbsentSidecar sidecar;
  Stats stats = Stats::Connect(sidecar.target());
  Bump(stats, 10);
  absl::SleepFor(absl::Milliseconds(100));

  bool acknowledged = true;
  const Cost shutdown = Measure([&] { acknowledged = stats.Shutdown(3s); });
  EXPECT_FALSE(acknowledged);
  // It waits for the sidecar up to the deadline, and no longer.
  EXPECT_GE(shutdown.wall, absl::Milliseconds(2900));
  EXPECT_LT(shutdown.wall, absl::Seconds(5));
  EXPECT_LT(shutdown.share(), kMaxCpuShare) << "in Shutdown(3s): " << Describe(shutdown);
  std::cout << "Shutdown(3s): " << Describe(shutdown) << "\n";

  // Destroying it afterwards is prompt and cheap too.
  const Cost destroy = Measure([&] { stats = Stats(); });
  EXPECT_LT(destroy.wall, absl::Seconds(1));
}

TEST(ClientOutageCpuTest, TheCAbiShutdownWaitsWithoutSpinning) {
  AbsentSidecar sidecar;
  const std::string target = sidecar.target();
  int err = -1;
  moq_stats_t* stats = moq_stats_connect(target.data(), target.size(), nullptr, &err);
  ASSERT_NE(stats, nullptr) << err;
  moq_stats_broadcast_t* broadcast = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, "cpu/c", 5, &err);
  ASSERT_NE(broadcast, nullptr) << err;
  moq_stats_broadcast_guard_t* guard = moq_stats_broadcast_guard_open(broadcast, MOQ_STATS_ROLE_PUBLISHER, &err);
  ASSERT_NE(guard, nullptr) << err;
  absl::SleepFor(absl::Milliseconds(100));

  int acknowledged = -1;
  const Cost shutdown = Measure([&] { acknowledged = moq_stats_shutdown(stats, 2000, &err); });
  EXPECT_EQ(acknowledged, 0);
  EXPECT_EQ(err, MOQ_STATS_OK);
  EXPECT_GE(shutdown.wall, absl::Milliseconds(1900));
  EXPECT_LT(shutdown.share(), kMaxCpuShare) << "in moq_stats_shutdown(2000): " << Describe(shutdown);
  std::cout << "moq_stats_shutdown(2000): " << Describe(shutdown) << "\n";

  moq_stats_broadcast_guard_close(guard);
  moq_stats_broadcast_destroy(broadcast);
  moq_stats_destroy(stats);
}

}  // namespace
}  // namespace moq_stats
