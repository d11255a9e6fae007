#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_READY_QUEUE_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_READY_QUEUE_H_

// ReadyQueue collects the keys (stream ids) of the announce streams and
// subscriptions whose origin consumer has news, so that Poll() visits only
// those instead of every subscription. The origin's notify callbacks push
// from writer threads; the session's thread takes the whole set at once.
// The owner's `wake` runs after a push that made the set non-empty, with no
// lock held, so one Poll() answers any number of pushes before it.
//
// Safe for concurrent access from multiple threads.

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace moq_stats::lite::internal {

class ReadyQueue {
 public:
  explicit ReadyQueue(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Marks `key` ready; calls wake when the set was empty.
  void Push(uint64_t key) {
    bool was_empty = false;
    {
      absl::MutexLock lock(&mu_);
      if (!set_.insert(key).second) return;
      was_empty = order_.empty();
      order_.push_back(key);
    }
    if (was_empty && wake_) wake_();
  }

  // Every key pushed since the last call, in push order.
  std::vector<uint64_t> TakeAll() {
    std::vector<uint64_t> out;
    absl::MutexLock lock(&mu_);
    out.swap(order_);
    set_.clear();
    return out;
  }

 private:
  const std::function<void()> wake_;
  absl::Mutex mu_;
  std::vector<uint64_t> order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint64_t> set_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_READY_QUEUE_H_
