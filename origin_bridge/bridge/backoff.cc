#include "origin_bridge/bridge/backoff.h"

#include <algorithm>
#include <memory>
#include <random>
#include <utility>

namespace moq_stats::bridge {

Backoff::RandomFn Backoff::SeededRandom(uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](uint64_t max) { return std::uniform_int_distribution<uint64_t>(0, max)(*engine); };
}

namespace {

uint64_t WholeMilliseconds(absl::Duration d) { return static_cast<uint64_t>(absl::ToInt64Milliseconds(d)); }

}  // namespace

Backoff::Backoff(BackoffOptions options, RandomFn random)
    : initial_delay_ms_(WholeMilliseconds(options.initial_delay)),
      max_delay_ms_(WholeMilliseconds(options.max_delay)),
      reset_after_ms_(WholeMilliseconds(options.reset_after)),
      random_(std::move(random)) {}

uint64_t Backoff::current_cap_ms() const {
  uint64_t cap = initial_delay_ms_;
  for (uint64_t i = 0; i < attempts_ && cap != 0 && cap < max_delay_ms_; ++i) cap *= 2;
  return std::min(cap, max_delay_ms_);
}

uint64_t Backoff::NextDelayMs() {
  uint64_t cap = current_cap_ms();
  // Stop counting once the cap is reached: the doubling loop stays short.
  if (cap != 0 && cap < max_delay_ms_) ++attempts_;
  uint64_t delay = cap == 0 ? 0 : random_(cap);
  return std::min(delay, cap);
}

void Backoff::OnSessionEnded(uint64_t uptime_ms) {
  if (uptime_ms >= reset_after_ms_) Reset();
}

}  // namespace moq_stats::bridge
