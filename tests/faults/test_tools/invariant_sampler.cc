#include "tests/faults/test_tools/invariant_sampler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/process_usage.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace faults {
namespace test {

namespace pb = ::moq::stats::v1;

InvariantSampler::InvariantSampler(std::string target, absl::Duration period, absl::Duration lifetime)
    : target_(std::move(target)) {
  thread_ = std::thread([this, period, lifetime] { Run(period, lifetime); });
}

InvariantSampler::~InvariantSampler() { Stop(); }

void InvariantSampler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void InvariantSampler::Run(absl::Duration period, absl::Duration lifetime) {
  auto stub = pb::StatsService::NewStub(integration::NewTestChannel(target_));
  const absl::Time end = absl::Now() + lifetime;
  while (!stop_.WaitForNotificationWithTimeout(period) && absl::Now() < end) {
    const pid_t pid = pid_.load(std::memory_order_relaxed);
    if (pid > 0) {
      if (std::optional<uint64_t> rss = integration::ResidentKib(pid)) {
        uint64_t seen = max_rss_kib_.load(std::memory_order_relaxed);
        while (*rss > seen && !max_rss_kib_.compare_exchange_weak(seen, *rss, std::memory_order_relaxed)) {
        }
      }
    }
    std::vector<pb::Level> levels;
    if (!integration::ListAllLevels(*stub, "", 1000, &levels).ok()) continue;  // down or restarting
    good_reads_.fetch_add(1, std::memory_order_relaxed);
    for (const pb::Level& level : levels) {
      for (pb::Tier tier : integration::kAllTiers) {
        for (pb::Role role : integration::kAllRoles) {
          ::testing::AssertionResult ok = integration::OpenAtLeastClosed(integration::SnapshotOf(level, tier, role));
          if (ok) continue;
          absl::MutexLock lock(&mu_);
          ++violation_count_;
          if (violations_.size() < 5) {
            violations_.push_back(absl::StrCat("level \"", level.key(), "\" ", integration::TierRoleName(tier, role),
                                               ": ", ok.message()));
          }
        }
      }
    }
  }
}

::testing::AssertionResult InvariantSampler::NeverClosedAboveOpen() const {
  absl::MutexLock lock(&mu_);
  if (violation_count_ == 0) return ::testing::AssertionSuccess();
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  failure << violation_count_ << " reads saw closed above open; first:";
  for (const std::string& v : violations_) failure << "\n  " << v;
  return failure;
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
