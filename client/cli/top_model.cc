#include "client/cli/top_model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/string_view.h"

namespace moq_stats {
namespace cli {
namespace {

uint64_t OpenSubscriptions(const Counts& c) {
  return c.subscriptions >= c.subscriptions_closed ? c.subscriptions - c.subscriptions_closed : 0;
}

// The increase of a cumulative counter from `then` to `now`: a counter read
// lower was reset and counted up from zero since.
uint64_t Increase(uint64_t now, uint64_t then) { return now >= then ? now - then : now; }

// Whether a level with key `key` (a normalised path) has an ancestor among
// `levels`: the root, or a key that is `key` cut at a '/'.
template <typename Map>
bool HasAncestor(absl::string_view key, const Map& levels) {
  if (key.empty()) return false;
  if (levels.contains("")) return true;
  for (size_t slash = key.find('/'); slash != absl::string_view::npos; slash = key.find('/', slash + 1)) {
    if (levels.contains(key.substr(0, slash))) return true;
  }
  return false;
}

void AddRate(const std::optional<double>& rate, std::optional<double>* sum) {
  if (rate.has_value()) *sum = sum->value_or(0) + *rate;
}

// The value rows are ordered by (larger first); unknown rates as 0.
double SortValue(const TopRates& r, TopSort sort) {
  return sort == TopSort::kViewers ? static_cast<double>(r.viewers) : r.out_bits.value_or(0);
}

}  // namespace

const char* TopSortName(TopSort sort) { return sort == TopSort::kViewers ? "viewers" : "bitrate"; }

TopSort NextTopSort(TopSort sort) { return sort == TopSort::kViewers ? TopSort::kBitrate : TopSort::kViewers; }

void TopModel::Update(absl::Time taken, const std::vector<TopLevelReading>& levels) {
  // Seconds since the refresh before; none when time did not move on.
  std::optional<double> seconds;
  if (taken_.has_value() && taken > *taken_) seconds = absl::ToDoubleSeconds(taken - *taken_);
  taken_ = taken;

  absl::flat_hash_map<std::string, LevelState> next;
  next.reserve(levels.size());
  for (const TopLevelReading& reading : levels) {
    LevelState state;
    state.out_bytes = reading.external_publisher.bytes;
    state.in_bytes = reading.external_subscriber.bytes;
    state.out_frames = reading.external_publisher.frames;
    state.rates.viewers = OpenSubscriptions(reading.external_publisher);
    auto previous = levels_.find(reading.key);
    if (seconds.has_value() && previous != levels_.end()) {
      const LevelState& before = previous->second;
      const auto rate = [&seconds](uint64_t now, uint64_t then) {
        return static_cast<double>(Increase(now, then)) / *seconds;
      };
      state.rates.out_bits = 8 * rate(state.out_bytes, before.out_bytes);
      state.rates.in_bits = 8 * rate(state.in_bytes, before.in_bytes);
      state.rates.out_frames = rate(state.out_frames, before.out_frames);
    }
    next.insert_or_assign(reading.key, std::move(state));
  }
  levels_ = std::move(next);

  totals_ = TopRates();
  for (const auto& [key, state] : levels_) {
    if (HasAncestor(key, levels_)) continue;
    totals_.viewers += state.rates.viewers;
    AddRate(state.rates.out_bits, &totals_.out_bits);
    AddRate(state.rates.in_bits, &totals_.in_bits);
    AddRate(state.rates.out_frames, &totals_.out_frames);
  }
}

std::vector<TopRow> TopModel::Rows(TopSort sort, size_t max_rows) const {
  using Entry = std::pair<const std::string*, const LevelState*>;
  std::vector<Entry> entries;
  entries.reserve(levels_.size());
  for (const auto& [key, state] : levels_) {
    if (!key.empty()) entries.emplace_back(&key, &state);
  }
  const auto before = [sort](const Entry& a, const Entry& b) {
    const double va = SortValue(a.second->rates, sort);
    const double vb = SortValue(b.second->rates, sort);
    if (va != vb) return va > vb;
    return *a.first < *b.first;
  };
  const size_t n = std::min(max_rows, entries.size());
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n), entries.end(), before);
  std::vector<TopRow> rows;
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) rows.push_back(TopRow{*entries[i].first, entries[i].second->rates});
  return rows;
}

}  // namespace cli
}  // namespace moq_stats
