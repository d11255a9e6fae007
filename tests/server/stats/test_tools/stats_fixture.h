#ifndef MOQ_STATS_TESTS_SERVER_STATS_TEST_TOOLS_STATS_FIXTURE_H_
#define MOQ_STATS_TESTS_SERVER_STATS_TEST_TOOLS_STATS_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats::server {
namespace test {

using ::moq_stats::test::SimulatedTime;

// An aggregator over an in-memory origin and simulated time, plus helpers to
// read what it published.
class StatsFixture {
 public:
  explicit StatsFixture(uint32_t levels = 1, std::string node = "sjc", absl::Duration retention = absl::Seconds(60)) {
    StatsConfig config;
    config.prefix = ".stats";
    config.levels = levels;
    config.node = std::move(node);
    config.retention = retention;
    auto stats = Stats::Create(config, &origin_, &time_.scheduler(), &time_.clock());
    EXPECT_TRUE(stats.ok()) << stats.status();
    stats_ = *stats;
    announcements_ = origin_.Announced(Path(".stats"));
  }

  Stats& stats() { return stats_; }
  Origin& origin() { return origin_; }
  SimulatedTime& time() { return time_; }
  void Advance(absl::Duration d) { time_.Advance(d); }

  // The snapshot of a level's (tier, role); fails the test if the level is
  // missing.
  Counts Read(const std::string& key, Tier tier, Role role) {
    auto level = stats_.level(Path(key));
    EXPECT_NE(level, nullptr) << "no level " << key;
    return level ? level->snapshot(tier, role) : Counts{};
  }

  // Announcements seen since the last call, as "+path" / "-path".
  std::vector<std::string> TakeAnnouncements() {
    std::vector<std::string> out;
    while (auto a = announcements_->Next()) out.push_back((a->active ? "+" : "-") + a->path.str());
    return out;
  }

  // A consumer of one track of the broadcast at `path`.
  std::unique_ptr<TrackConsumer> Subscribe(const std::string& path, Tier tier, Role role) {
    auto consumer = origin_.Subscribe(Path(path), TrackName(tier, role));
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    return consumer.ok() ? std::move(*consumer) : nullptr;
  }

  // Every frame waiting on `consumer`.
  static std::vector<std::string> Frames(TrackConsumer& consumer) {
    std::vector<std::string> out;
    while (auto g = consumer.Next()) out.push_back(*g->frame);
    return out;
  }

 private:
  Origin origin_;
  SimulatedTime time_;
  Stats stats_;
  std::unique_ptr<AnnouncementConsumer> announcements_;
};

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_STATS_TEST_TOOLS_STATS_FIXTURE_H_
