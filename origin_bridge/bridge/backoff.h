#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BACKOFF_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BACKOFF_H_

// The delays between dial-mode reconnects: exponential with full jitter.
// The n-th delay after a failure (n = 0, 1, ...) is drawn uniformly from
// [0, min(max_delay, initial_delay * 2^n)]. A session that stayed up for at
// least `reset_after` counts as a success: the next delay starts over from
// initial_delay. (Uptime rather than "delivered something", because a relay
// that accepts and then drops us at once would otherwise be redialled at
// full speed whenever it managed to ask for one announcement.)
//
// Delays are whole milliseconds: the options are taken to the millisecond
// (truncated), and NextDelayMs draws a number of milliseconds.
//
// Pure: time and randomness come from the caller. Not thread-safe.

#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace moq_stats::bridge {

struct BackoffOptions {
  absl::Duration initial_delay = absl::Milliseconds(250);
  absl::Duration max_delay = absl::Seconds(30);
  absl::Duration reset_after = absl::Seconds(30);
};

class Backoff {
 public:
  // Returns a number uniformly drawn from [0, max] (inclusive).
  using RandomFn = std::function<uint64_t(uint64_t max)>;

  // A random source over a std::mt19937_64 seeded with `seed`.
  static RandomFn SeededRandom(uint64_t seed);

  Backoff(BackoffOptions options, RandomFn random);

  // The delay before the next attempt; each call grows the cap.
  uint64_t NextDelayMs();

  // The upper bound NextDelayMs draws from next.
  uint64_t current_cap_ms() const;

  // A session ended after being up for `uptime_ms`: resets the growth when
  // it was up at least reset_after.
  void OnSessionEnded(uint64_t uptime_ms);

  // Starts over from initial_delay.
  void Reset() { attempts_ = 0; }

  // Doublings of the cap since the last reset (stops at max_delay).
  uint64_t attempts() const { return attempts_; }

 private:
  // The options in milliseconds.
  const uint64_t initial_delay_ms_;
  const uint64_t max_delay_ms_;
  const uint64_t reset_after_ms_;
  RandomFn random_;
  uint64_t attempts_ = 0;  // cap doublings since the last reset
};

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_BACKOFF_H_
