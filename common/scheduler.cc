#include "common/scheduler.h"

#include <utility>

namespace moq_stats {

void Scheduler::ScheduleAt(absl::Time when, Task task) {
  std::function<void()> wakeup;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    bool earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Entry{when, next_seq_++, std::make_shared<Task>(std::move(task))});
    if (earliest) wakeup = wakeup_;
  }
  if (wakeup) wakeup();
}

size_t Scheduler::RunDue(absl::Time now) {
  size_t ran = 0;
  for (;;) {
    std::shared_ptr<Task> task;
    {
      absl::MutexLock lock(&mu_);
      if (heap_.empty() || heap_.top().when > now) break;
      task = heap_.top().task;
      heap_.pop();
    }
    (*task)();
    ++ran;
  }
  return ran;
}

std::optional<absl::Time> Scheduler::NextDeadline() const {
  absl::MutexLock lock(&mu_);
  if (heap_.empty()) return std::nullopt;
  return heap_.top().when;
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return heap_.size();
}

void Scheduler::SetWakeup(std::function<void()> wakeup) {
  absl::MutexLock lock(&mu_);
  wakeup_ = std::move(wakeup);
}

void Scheduler::Shutdown() {
  decltype(heap_) dropped;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    std::swap(dropped, heap_);
  }
  // `dropped` is destroyed here, outside the lock: a task's captures may
  // schedule or take other locks when they are destroyed.
}

SchedulerThread::SchedulerThread(Scheduler* scheduler, const Clock* clock) : scheduler_(scheduler), clock_(clock) {
  scheduler_->SetWakeup([signal = signal_] {
    absl::MutexLock lock(&signal->mu);
    signal->woken = true;
  });
  thread_ = std::thread([this] { Run(); });
}

SchedulerThread::~SchedulerThread() {
  {
    absl::MutexLock lock(&signal_->mu);
    signal_->stop = true;
  }
  thread_.join();
  scheduler_->SetWakeup(nullptr);
}

void SchedulerThread::Run() {
  Signal& signal = *signal_;
  for (;;) {
    scheduler_->RunDue(clock_->Now());
    std::optional<absl::Time> next = scheduler_->NextDeadline();
    absl::MutexLock lock(&signal.mu);
    // Sleep until the next deadline, a wakeup or stop; cap the wait so a
    // clock that jumps is noticed.
    absl::Duration wait = absl::Seconds(1);
    if (next) wait = std::min(wait, std::max(absl::ZeroDuration(), *next - clock_->Now()));
    auto ready = [&signal]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(signal.mu) { return signal.stop || signal.woken; };
    signal.mu.AwaitWithTimeout(absl::Condition(&ready), wait);
    if (signal.stop) return;
    signal.woken = false;
  }
}

}  // namespace moq_stats
