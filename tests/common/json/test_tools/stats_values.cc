#include "tests/common/json/test_tools/stats_values.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats::json::test {
namespace {

constexpr const char* kFieldNames[] = {
    "announced",
    "announced_closed",
    "announced_bytes",
    "broadcasts",
    "broadcasts_closed",
    "subscriptions",
    "subscriptions_closed",
    "fetches",
    "bytes",
    "frames",
    "groups",
    "datagrams",
};

}  // namespace

StatsValues::StatsValues(uint32_t seed, size_t paths) : rng_(seed) {
  for (size_t i = 0; i < paths; ++i) AddPath();
}

void StatsValues::AddPath() {
  const uint64_t n = paths_made_++;
  std::string path = absl::StrCat("org", n % 7, "/room", n, "/", n % 3 == 0 ? "cam" : "mic", n % 4);
  std::array<uint64_t, kFields> counters{};
  counters[kAnnounced] = 1;
  counters[kAnnouncedBytes] = path.size();
  counters[kSubscriptions] = 1 + Below(3);
  counters[kBytes] = Below(100000);
  counters[kFrames] = Below(300);
  counters[kGroups] = Below(10);
  entries_[std::move(path)] = counters;
}

Value StatsValues::Next(Tick kind) {
  switch (kind) {
    case Tick::kSame:
      break;
    case Tick::kQuiet: {
      if (entries_.empty()) AddPath();
      auto it = std::next(entries_.begin(), static_cast<std::ptrdiff_t>(Below(entries_.size())));
      it->second[kBytes] += 1 + Below(5000);
      it->second[kFrames] += 1 + Below(10);
      break;
    }
    case Tick::kBusy: {
      for (auto& [path, counters] : entries_) {
        if (Below(2) == 0) continue;
        counters[kBytes] += Below(1 << 20);
        counters[kFrames] += Below(600);
        counters[kGroups] += Below(20);
        if (Below(10) == 0) counters[kDatagrams] += 1;
        if (Below(20) == 0) counters[kSubscriptions] += 1;
      }
      for (uint64_t i = Below(4); i > 0; --i) AddPath();
      for (uint64_t i = Below(3); i > 0 && entries_.size() > 1; --i) {
        entries_.erase(std::next(entries_.begin(), static_cast<std::ptrdiff_t>(Below(entries_.size()))));
      }
      break;
    }
  }
  return Current();
}

Value StatsValues::Current() const {
  Object object;
  object.Reserve(entries_.size());
  for (const auto& [path, counters] : entries_) {
    Object traffic;
    traffic.Reserve(kFields);
    for (size_t i = 0; i < kFields; ++i) traffic.Append(kFieldNames[i], counters[i]);
    object.Append(path, Value(std::move(traffic)));
  }
  return Value(std::move(object));
}

}  // namespace moq_stats::json::test
