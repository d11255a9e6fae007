#ifndef MOQ_STATS_CLIENT_CLI_TOP_MODEL_H_
#define MOQ_STATS_CLIENT_CLI_TOP_MODEL_H_

// What `moq-stats top` shows, computed from the levels it reads: readings of
// cumulative counters go in, rows of rates per second come out. No I/O and
// no clock: each refresh carries the time it was read.
//
// The numbers, all of the external (customer-facing) tier:
//   viewers   subscriptions open now in the publisher role (egress):
//             subscriptions - subscriptions_closed;
//   out b/s   bits per second sent (publisher-role bytes x 8);
//   in b/s    bits per second received (subscriber-role bytes x 8);
//   frames/s  frames per second sent (publisher-role frames).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "client/cli/cli_flags.h"
#include "moq_stats/counts.h"

namespace moq_stats {
namespace cli {

// One level as a refresh read it.
struct TopLevelReading {
  std::string key;  // "" for the root
  Counts external_publisher;
  Counts external_subscriber;
};

// A level's (or the totals') numbers. A rate is nullopt until the level has
// been read twice.
struct TopRates {
  uint64_t viewers = 0;
  std::optional<double> out_bits;
  std::optional<double> in_bits;
  std::optional<double> out_frames;
};

struct TopRow {
  std::string key;
  TopRates rates;
};

// "bitrate", "viewers".
const char* TopSortName(TopSort sort);
// The other sort (what the `s` key switches to).
TopSort NextTopSort(TopSort sort);

// The levels of the last refresh and their rates. A rate is the increase of
// its counter between a level's last two readings over the time between
// them. A counter read lower than before was reset (the level was freed
// after its retention time and made anew, or the sidecar restarted without
// its checkpoint): it counted up from zero since, so its increase is the
// new reading, as Prometheus's rate() takes it; never a negative rate.
// Holds only the levels of the last refresh, so its memory is bounded by
// what one refresh reads.
//
// Not thread-safe: use from one thread.
class TopModel {
 public:
  // Takes one refresh read at `taken`: every level read (any order; a key
  // given twice counts once, the later reading). Levels not in it are
  // forgotten. A refresh no later than the one before gives no rates (it
  // replaces the readings, the rates stay unknown until the next one).
  void Update(absl::Time taken, const std::vector<TopLevelReading>& levels);

  // The levels of the last refresh.
  size_t level_count() const { return levels_.size(); }

  // At most `max_rows` rows, ordered by `sort` (ties in key order). The root level ("") is not
  // among them: its numbers are the totals.
  std::vector<TopRow> Rows(TopSort sort, size_t max_rows) const;

  // The numbers summed over the outermost levels read (those none of whose
  // ancestors was read): the root when it was read, else the levels at the
  // top of what was (so that each path counts once). A rate is nullopt when
  // no outermost level has one yet.
  const TopRates& totals() const { return totals_; }

 private:
  struct LevelState {
    uint64_t out_bytes = 0;
    uint64_t in_bytes = 0;
    uint64_t out_frames = 0;
    TopRates rates;
  };

  std::optional<absl::Time> taken_;  // of the last refresh
  absl::flat_hash_map<std::string, LevelState> levels_;
  TopRates totals_;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TOP_MODEL_H_
