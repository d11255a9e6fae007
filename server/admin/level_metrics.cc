#include "server/admin/level_metrics.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace moq_stats::server {
namespace {

// One family of level series. `value` reads it from one level's reading for
// one (tier, role); a per-level value (such as a creation time) gives the
// same value for the four.
struct LevelFamily {
  const char* name;
  const char* help;
  bool counter;  // else a gauge
  double (*value)(const LevelReading& reading, size_t tier_role);
};

const Counts& At(const LevelReading& r, size_t tier_role) { return r.counts[tier_role]; }

// Counters are exact up to 2^53 as doubles (PrometheusText writes them so).
double D(uint64_t n) { return static_cast<double>(n); }

// In exposition order. The names follow moq-relay's /metrics
// (moq_relay_bytes_total{tier,role} and friends), per level.
constexpr LevelFamily kFamilies[] = {
    {"moq_stats_level_bytes_total", "Payload bytes carried under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).bytes); }},
    {"moq_stats_level_frames_total", "Frames carried under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).frames); }},
    {"moq_stats_level_groups_total", "Groups carried under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).groups); }},
    {"moq_stats_level_broadcasts_opened_total",
     "Broadcasts opened under the level's prefix (the broadcasts counter; per broadcast and session).", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).broadcasts); }},
    {"moq_stats_level_broadcasts_closed_total", "Broadcasts closed under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).broadcasts_closed); }},
    {"moq_stats_level_subscriptions_opened_total", "Track subscriptions opened under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).subscriptions); }},
    {"moq_stats_level_subscriptions_closed_total", "Track subscriptions closed under the level's prefix.", true,
     [](const LevelReading& r, size_t i) { return D(At(r, i).subscriptions_closed); }},
    {"moq_stats_level_broadcasts_open", "Broadcasts open now under the level's prefix (opened - closed).", false,
     [](const LevelReading& r, size_t i) { return D(At(r, i).broadcasts - At(r, i).broadcasts_closed); }},
    {"moq_stats_level_subscriptions_open", "Track subscriptions open now under the level's prefix (opened - closed).",
     false, [](const LevelReading& r, size_t i) { return D(At(r, i).subscriptions - At(r, i).subscriptions_closed); }},
    {"moq_stats_level_created",
     "When this incarnation of the level was created, in seconds since the Unix epoch: a level freed by retention "
     "and created again starts its counters from zero with a later time.",
     false, [](const LevelReading& r, size_t) { return static_cast<double>(r.created_unix_ms) / 1000.0; }},
};

// Shallowest first, then in key order.
bool ShallowerThenByKey(const Level* a, const Level* b) {
  const size_t da = a->key().segment_count();
  const size_t db = b->key().segment_count();
  if (da != db) return da < db;
  return a->key() < b->key();
}

}  // namespace

LevelMetrics::LevelMetrics(uint64_t max_levels, std::string node) : max_levels_(max_levels), node_(std::move(node)) {}

void LevelMetrics::Render(const Stats& stats, PrometheusText* text) {
  Render(stats.ListLevels(Path(), std::nullopt, static_cast<size_t>(-1)), text);
}

std::vector<bool> LevelMetrics::Select(const std::vector<std::shared_ptr<const Level>>& levels) {
  std::set<std::string> kept;
  std::vector<const Level*> candidates;
  std::vector<bool> chosen(levels.size(), false);
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string& key = levels[i]->key().str();
    if (exported_.count(key) > 0) {
      kept.insert(key);
      chosen[i] = true;
    } else {
      candidates.push_back(levels[i].get());
    }
  }
  exported_.swap(kept);
  const uint64_t room = max_levels_ > exported_.size() ? max_levels_ - exported_.size() : 0;
  if (room > 0 && !candidates.empty()) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(room, candidates.size()));
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                      ShallowerThenByKey);
    candidates.resize(take);
    for (const Level* level : candidates) exported_.insert(level->key().str());
    // Mark them in `levels` order: both are sorted by key.
    std::sort(candidates.begin(), candidates.end(), [](const Level* a, const Level* b) { return a->key() < b->key(); });
    size_t next = 0;
    for (size_t i = 0; i < levels.size() && next < candidates.size(); ++i) {
      if (levels[i].get() == candidates[next]) {
        chosen[i] = true;
        ++next;
      }
    }
  }
  return chosen;
}

void LevelMetrics::Render(const std::vector<std::shared_ptr<const Level>>& levels, PrometheusText* text) {
  std::vector<LevelReading> readings;
  {
    absl::MutexLock lock(&mu_);
    const std::vector<bool> chosen = Select(levels);
    readings.reserve(exported_.size());
    for (size_t i = 0; i < levels.size(); ++i) {
      if (!chosen[i]) continue;
      LevelReading reading;
      reading.key = levels[i]->key().str();
      reading.created_unix_ms = levels[i]->created_unix_ms();
      for (Tier tier : kTiers) {
        for (Role role : kRoles) reading.counts[TierRoleIndex(tier, role)] = levels[i]->snapshot(tier, role);
      }
      readings.push_back(std::move(reading));
    }
  }
  // The labels of every series, built once and shared by the families.
  std::vector<PrometheusText::Labels> labels;
  labels.reserve(readings.size() * kTierRoleCount);
  for (const LevelReading& reading : readings) {
    for (Tier tier : kTiers) {
      for (Role role : kRoles) {
        labels.push_back({{"level", reading.key},
                          {"tier", std::string(TierName(tier))},
                          {"role", std::string(RoleName(role))},
                          {"node", node_}});
      }
    }
  }
  for (const LevelFamily& family : kFamilies) {
    // Made once per family, not once per sample.
    const std::string name = family.name;
    const std::string help = family.help;
    size_t series = 0;
    for (const LevelReading& reading : readings) {
      for (Tier tier : kTiers) {
        for (Role role : kRoles) {
          const double value = family.value(reading, TierRoleIndex(tier, role));
          if (family.counter) {
            text->Counter(name, help, value, labels[series]);
          } else {
            text->Gauge(name, help, value, labels[series]);
          }
          ++series;
        }
      }
    }
  }
  text->Gauge("moq_stats_levels_exported", "Levels whose series are on /metrics (at most --metrics-max-levels).",
              static_cast<double>(readings.size()));
  text->Gauge("moq_stats_levels_unexported",
              "Levels held but left out of /metrics because --metrics-max-levels was reached.",
              static_cast<double>(levels.size() - readings.size()));
}

std::vector<std::string> LevelMetrics::exported() const {
  absl::MutexLock lock(&mu_);
  return {exported_.begin(), exported_.end()};
}

}  // namespace moq_stats::server
