#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_RECEIVE_WINDOW_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_RECEIVE_WINDOW_H_

// The credit one side of a QMux connection grants the other: bytes of a
// stream, bytes of the whole connection, or a count of streams. The peer uses
// it up (Receive / ReceiveUpTo, refused beyond the limit), the application
// gives it back (Consume), and once more than half of what is left has been
// given back the limit rises by that much: the caller sends the new limit
// (MAX_STREAM_DATA, MAX_DATA, MAX_STREAMS).
//
// A plain value type; not thread-safe.

#include <algorithm>
#include <cstdint>
#include <optional>

namespace moq_stats::qmux::internal {

class ReceiveWindow {
 public:
  // `max` is the initial limit; `ceiling` caps how far it may ever rise
  // (2^62-1 for bytes, 2^60 for stream counts).
  explicit ReceiveWindow(uint64_t max = 0, uint64_t ceiling = (uint64_t{1} << 62) - 1)
      : max_(std::min(max, ceiling)), ceiling_(ceiling) {}

  uint64_t max() const { return max_; }
  uint64_t used() const { return used_; }

  // Accounts for `n` more units; false (nothing changes) beyond the limit.
  bool Receive(uint64_t n) {
    if (n > max_ - used_) return false;
    used_ += n;
    return true;
  }

  // Raises the units used to `total` (a stream offset, or a stream index + 1);
  // false beyond the limit. Never lowers.
  bool ReceiveUpTo(uint64_t total) {
    if (total > max_) return false;
    used_ = std::max(used_, total);
    return true;
  }

  // The application is done with `n` units. Returns the new limit when it
  // rose and must be announced.
  std::optional<uint64_t> Consume(uint64_t n) {
    released_ += n;
    if (released_ == 0 || used_ + 2 * released_ <= max_) return std::nullopt;
    const uint64_t raised = std::min(ceiling_, max_ + released_);
    released_ = 0;
    if (raised == max_) return std::nullopt;
    max_ = raised;
    return max_;
  }

 private:
  uint64_t max_;
  uint64_t ceiling_;
  uint64_t used_ = 0;
  uint64_t released_ = 0;
};

}  // namespace moq_stats::qmux::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_INTERNAL_RECEIVE_WINDOW_H_
