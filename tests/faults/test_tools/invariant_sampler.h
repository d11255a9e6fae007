#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_INVARIANT_SAMPLER_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_INVARIANT_SAMPLER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace faults {
namespace test {

// Reads the daemon while a scenario runs, on a thread of its own, every
// `period`:
//   - every level through ListLevels (a fresh channel to `target`, so reads
//     go on across restarts; reads that fail while the daemon is down are
//     counted, not judged), checking at every read that no (tier, role) has
//     more closed than open broadcasts or subscriptions (docs/semantics.md:
//     open is never below closed);
//   - the resident set of the daemon process named by set_pid (its maximum).
// Every loop is bounded: it stops at Stop() or after `lifetime`.
class InvariantSampler {
 public:
  InvariantSampler(std::string target, absl::Duration period = absl::Milliseconds(20),
                   absl::Duration lifetime = absl::Minutes(30));
  ~InvariantSampler();
  InvariantSampler(const InvariantSampler&) = delete;
  InvariantSampler& operator=(const InvariantSampler&) = delete;

  // The daemon process whose memory is sampled (after each start).
  void set_pid(pid_t pid) { pid_.store(pid, std::memory_order_relaxed); }

  void Stop();

  // No read ever saw closed above open (the first violations are named).
  ::testing::AssertionResult NeverClosedAboveOpen() const;
  uint64_t good_reads() const { return good_reads_.load(std::memory_order_relaxed); }
  uint64_t max_rss_kib() const { return max_rss_kib_.load(std::memory_order_relaxed); }

 private:
  void Run(absl::Duration period, absl::Duration lifetime);

  const std::string target_;
  std::atomic<pid_t> pid_{-1};
  std::atomic<uint64_t> good_reads_{0};
  std::atomic<uint64_t> max_rss_kib_{0};
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  uint64_t violation_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_INVARIANT_SAMPLER_H_
