#include "server/admin/level_metrics.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using Levels = std::vector<std::shared_ptr<const Level>>;

// Created at 2025-12-03T12:00:00.250Z.
constexpr int64_t kCreatedMs = 1764763200250;

std::shared_ptr<Level> MakeLevel(const std::string& key) {
  return std::make_shared<Level>(Path(key), Path(".stats").join(Path(key)), kCreatedMs);
}

// `levels` sorted by key, as Stats::ListLevels gives them.
Levels Sorted(std::vector<std::shared_ptr<Level>> levels) {
  std::sort(levels.begin(), levels.end(), [](const auto& a, const auto& b) { return a->key() < b->key(); });
  return {levels.begin(), levels.end()};
}

// The sample lines of a scrape by series.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

std::string Render(LevelMetrics& metrics, const Levels& levels) {
  PrometheusText text;
  metrics.Render(levels, &text);
  return text.Take();
}

TEST(LevelMetricsTest, ExportsTheSevenCountersAndTheOpenGaugesPerTierAndRole) {
  auto root = MakeLevel("");
  auto room = MakeLevel("room");
  Counters& c = room->counters(Tier::kExternal, Role::kPublisher);
  Counts add;
  add.broadcasts = 3;
  add.broadcasts_closed = 1;
  add.subscriptions = 5;
  add.subscriptions_closed = 2;
  add.bytes = 1200;
  add.frames = 7;
  add.groups = 4;
  c.Add(add);
  room->counters(Tier::kInternal, Role::kSubscriber).AddBytes(99);
  LevelMetrics metrics(10, "lon");
  const std::string text = Render(metrics, Sorted({root, room}));
  const auto samples = Samples(text);
  const std::string ext_pub = R"({level="room",tier="external",role="publisher",node="lon"})";
  EXPECT_EQ(samples.at("moq_stats_level_bytes_total" + ext_pub), "1200");
  EXPECT_EQ(samples.at("moq_stats_level_frames_total" + ext_pub), "7");
  EXPECT_EQ(samples.at("moq_stats_level_groups_total" + ext_pub), "4");
  EXPECT_EQ(samples.at("moq_stats_level_broadcasts_opened_total" + ext_pub), "3");
  EXPECT_EQ(samples.at("moq_stats_level_broadcasts_closed_total" + ext_pub), "1");
  EXPECT_EQ(samples.at("moq_stats_level_subscriptions_opened_total" + ext_pub), "5");
  EXPECT_EQ(samples.at("moq_stats_level_subscriptions_closed_total" + ext_pub), "2");
  EXPECT_EQ(samples.at("moq_stats_level_broadcasts_open" + ext_pub), "2");
  EXPECT_EQ(samples.at("moq_stats_level_subscriptions_open" + ext_pub), "3");
  // When this incarnation of the level was created, in seconds since the
  // epoch: a level freed and created again shows a later time.
  EXPECT_EQ(samples.at("moq_stats_level_created" + ext_pub), "1764763200.25");
  EXPECT_EQ(samples.at(R"(moq_stats_level_bytes_total{level="room",tier="internal",role="subscriber",node="lon"})"),
            "99");
  EXPECT_EQ(samples.at(R"(moq_stats_level_bytes_total{level="",tier="external",role="publisher",node="lon"})"), "0");
  // 2 levels x 4 (tier, role) x 10 families, plus the two selection gauges.
  EXPECT_EQ(samples.size(), 2u * 4 * 10 + 2);
  EXPECT_EQ(samples.at("moq_stats_levels_exported"), "2");
  EXPECT_EQ(samples.at("moq_stats_levels_unexported"), "0");
  // One HELP and one TYPE per family.
  EXPECT_NE(text.find("# TYPE moq_stats_level_bytes_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE moq_stats_level_subscriptions_open gauge\n"), std::string::npos);
  size_t helps = 0;
  for (size_t at = text.find("# HELP moq_stats_level_bytes_total"); at != std::string::npos;
       at = text.find("# HELP moq_stats_level_bytes_total", at + 1)) {
    ++helps;
  }
  EXPECT_EQ(helps, 1u);
}

TEST(LevelMetricsTest, EscapesLabelValues) {
  auto odd = MakeLevel("a\"b\\c");
  LevelMetrics metrics(10, "n\"1");
  const auto samples = Samples(Render(metrics, Sorted({odd})));
  EXPECT_EQ(
      samples.count(R"(moq_stats_level_bytes_total{level="a\"b\\c",tier="external",role="publisher",node="n\"1"})"),
      1u);
}

TEST(LevelMetricsTest, TheCapTakesTheShallowestLevelsThenByKey) {
  LevelMetrics metrics(3, "");
  const Levels levels = Sorted({MakeLevel("b/x"), MakeLevel("a"), MakeLevel(""), MakeLevel("b"), MakeLevel("a/y")});
  const auto samples = Samples(Render(metrics, levels));
  EXPECT_EQ(metrics.exported(), (std::vector<std::string>{"", "a", "b"}));
  EXPECT_EQ(samples.at("moq_stats_levels_exported"), "3");
  EXPECT_EQ(samples.at("moq_stats_levels_unexported"), "2");
  // The levels left out appear in no series at all.
  for (const auto& [series, value] : samples) {
    EXPECT_EQ(series.find("level=\"a/y\""), std::string::npos) << series;
    EXPECT_EQ(series.find("level=\"b/x\""), std::string::npos) << series;
  }
}

TEST(LevelMetricsTest, AnExportedLevelStaysWhileItExistsSoItsCountersNeverGoDown) {
  LevelMetrics metrics(2, "");
  auto deep = MakeLevel("a/b/c");
  auto other = MakeLevel("z/y");
  deep->counters(Tier::kExternal, Role::kPublisher).AddBytes(500);
  // Alone at first: both deep levels are exported.
  Render(metrics, Sorted({deep, other}));
  EXPECT_EQ(metrics.exported(), (std::vector<std::string>{"a/b/c", "z/y"}));
  // Shallower levels arrive: the exported ones keep their place, the
  // newcomers wait for room.
  auto root = MakeLevel("");
  auto a = MakeLevel("a");
  deep->counters(Tier::kExternal, Role::kPublisher).AddBytes(1);
  auto samples = Samples(Render(metrics, Sorted({deep, other, root, a})));
  EXPECT_EQ(metrics.exported(), (std::vector<std::string>{"a/b/c", "z/y"}));
  EXPECT_EQ(samples.at(R"(moq_stats_level_bytes_total{level="a/b/c",tier="external",role="publisher",node=""})"),
            "501");
  EXPECT_EQ(samples.at("moq_stats_levels_unexported"), "2");
  // `other` is freed: its room goes to the shallowest waiting level.
  samples = Samples(Render(metrics, Sorted({deep, root, a})));
  EXPECT_EQ(metrics.exported(), (std::vector<std::string>{"", "a/b/c"}));
  EXPECT_EQ(samples.at("moq_stats_levels_unexported"), "1");
}

TEST(LevelMetricsTest, ZeroExportsNoLevel) {
  LevelMetrics metrics(0, "");
  const auto samples = Samples(Render(metrics, Sorted({MakeLevel(""), MakeLevel("a")})));
  EXPECT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples.at("moq_stats_levels_unexported"), "2");
}

}  // namespace
}  // namespace moq_stats::server
