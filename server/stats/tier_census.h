#ifndef MOQ_STATS_SERVER_STATS_TIER_CENSUS_H_
#define MOQ_STATS_SERVER_STATS_TIER_CENSUS_H_

// How many entries of a table each tier label has, so that the table can
// tell which tiers exist without walking its entries. Not thread-safe: the
// owning table's lock guards it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace moq_stats::server {

class TierCensus {
 public:
  // One more entry of `label`.
  void Add(std::string_view label) { ++counts_[std::string(label)]; }
  // One entry of `label` fewer; a label with none left is forgotten.
  void Remove(std::string_view label) {
    auto it = counts_.find(absl::string_view(label.data(), label.size()));
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }
  bool Has(std::string_view label) const { return counts_.contains(absl::string_view(label.data(), label.size())); }
  // Labels with at least one entry.
  size_t size() const { return counts_.size(); }
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    out.reserve(counts_.size());
    for (const auto& [label, count] : counts_) out.push_back(label);
    return out;
  }

 private:
  absl::flat_hash_map<std::string, size_t> counts_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_STATS_TIER_CENSUS_H_
