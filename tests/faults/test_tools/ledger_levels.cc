#include "tests/faults/test_tools/ledger_levels.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/counts_proto.h"
#include "tests/common/test_tools/counts_testing.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace faults {
namespace test {

namespace pb = ::moq::stats::v1;

bool ReadLevels(pb::StatsService::Stub& stub, const std::vector<std::string>& keys, Readings* out, std::string* why) {
  out->clear();
  for (const std::string& key : keys) {
    pb::Level level;
    grpc::Status status = integration::GetLevel(stub, key, &level);
    if (!status.ok()) {
      *why = absl::StrCat("GetLevel \"", key, "\": ", integration::Describe(status));
      return false;
    }
    for (pb::Tier tier : integration::kAllTiers) {
      for (pb::Role role : integration::kAllRoles) {
        (*out)[key][{tier, role}] = CountsFromProto(integration::SnapshotOf(level, tier, role));
      }
    }
  }
  return true;
}

bool WaitForStableReadings(pb::StatsService::Stub& stub, const std::vector<std::string>& keys,
                           const std::function<bool()>& quiet, Readings* out, std::string* why, absl::Duration settle,
                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Readings before;
  bool have_before = false;
  while (absl::Now() < deadline) {
    Readings now;
    if (quiet() && ReadLevels(stub, keys, &now, why)) {
      if (have_before && now == before && quiet()) {
        *out = std::move(now);
        return true;
      }
      before = std::move(now);
      have_before = true;
    } else {
      have_before = false;
    }
    absl::SleepFor(settle);
  }
  if (why->empty()) *why = "the readings never settled";
  return false;
}

namespace {

template <typename Check>
::testing::AssertionResult EveryField(const Readings& a, const Readings& b, const char* what, Check check) {
  for (const auto& [key, levels] : a) {
    auto other = b.find(key);
    if (other == b.end()) return ::testing::AssertionFailure() << "no level \"" << key << "\" to compare";
    for (const auto& [tr, counts] : levels) {
      auto it = other->second.find(tr);
      const Counts theirs = it == other->second.end() ? Counts{} : it->second;
      if (!check(counts, theirs)) {
        return ::testing::AssertionFailure()
               << "level \"" << key << "\" "
               << integration::TierRoleName(static_cast<pb::Tier>(tr.first), static_cast<pb::Role>(tr.second)) << ": "
               << Show(counts) << " " << what << " " << Show(theirs);
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult AtMost(const Readings& a, const Readings& b) {
  return EveryField(a, b, "is not at most", [](const Counts& x, const Counts& y) {
    for (const CountField& f : kCountFields) {
      if (x.*f.field > y.*f.field) return false;
    }
    return true;
  });
}

Readings Minus(const Readings& a, const Readings& b) {
  Readings out = a;
  for (auto& [key, levels] : out) {
    for (auto& [tr, counts] : levels) {
      auto k = b.find(key);
      if (k == b.end()) continue;
      auto it = k->second.find(tr);
      if (it != k->second.end()) counts = counts - it->second;
    }
  }
  return out;
}

Readings Plus(const Readings& a, const Readings& b) {
  Readings out = a;
  for (const auto& [key, levels] : b) {
    for (const auto& [tr, counts] : levels) out[key][tr] += counts;
  }
  return out;
}

::testing::AssertionResult SameReadings(const Readings& actual, const Readings& expected) {
  ::testing::AssertionResult one = EveryField(expected, actual, "expected, the sidecar has",
                                              [](const Counts& x, const Counts& y) { return x == y; });
  if (!one) return one;
  return EveryField(actual, expected, "read, expected", [](const Counts& x, const Counts& y) { return x == y; });
}

::testing::AssertionResult SameSums(const Readings& actual, const Readings& expected) {
  return EveryField(actual, expected, "has other sums than", [](const Counts& x, const Counts& y) {
    return x.bytes == y.bytes && x.frames == y.frames && x.groups == y.groups;
  });
}

::testing::AssertionResult SameOpenGuards(const Readings& actual, const Readings& expected) {
  return EveryField(actual, expected, "holds other open guards than", [](const Counts& x, const Counts& y) {
    return x.broadcasts - x.broadcasts_closed == y.broadcasts - y.broadcasts_closed &&
           x.subscriptions - x.subscriptions_closed == y.subscriptions - y.subscriptions_closed;
  });
}

uint64_t TotalBumps(const Readings& r) {
  uint64_t total = 0;
  for (const auto& [key, levels] : r) {
    for (const auto& [tr, counts] : levels) {
      for (const CountField& f : kCountFields) {
        if (f.counter != Counter::kBytes) total += counts.*f.field;
      }
    }
  }
  return total;
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
