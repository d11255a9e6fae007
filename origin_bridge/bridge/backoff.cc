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

Backoff::Backoff(BackoffOptions options, RandomFn random) : options_(options), random_(std::move(random)) {}

uint64_t Backoff::current_cap_ms() const {
  uint64_t cap = options_.initial_delay_ms;
  for (uint64_t i = 0; i < attempts_ && cap != 0 && cap < options_.max_delay_ms; ++i) cap *= 2;
  return std::min(cap, options_.max_delay_ms);
}

uint64_t Backoff::NextDelayMs() {
  uint64_t cap = current_cap_ms();
  // Stop counting once the cap is reached: the doubling loop stays short.
  if (cap != 0 && cap < options_.max_delay_ms) ++attempts_;
  uint64_t delay = cap == 0 ? 0 : random_(cap);
  return std::min(delay, cap);
}

void Backoff::OnSessionEnded(uint64_t uptime_ms) {
  if (uptime_ms >= options_.reset_after_ms) Reset();
}

}  // namespace moq_stats::bridge
