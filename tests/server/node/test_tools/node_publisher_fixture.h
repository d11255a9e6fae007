#ifndef MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_NODE_PUBLISHER_FIXTURE_H_
#define MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_NODE_PUBLISHER_FIXTURE_H_

// A node publisher over an in-memory origin and simulated time, fed by a
// Stats that counts paths and presence (prefix ".stats", levels 2): the
// fixture of the node publisher's tests. Start makes both; the helpers read
// announcements and frames.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "origin/origin.h"
#include "server/node/node_publisher.h"
#include "server/stats/stats.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats::server::test {

class NodePublisherFixture : public ::testing::Test {
 protected:
  static constexpr absl::Duration kInterval = absl::Seconds(1);

  // The publisher at `depth` as node `node`, with the level format
  // published too when `publish_levels`.
  void Start(uint32_t depth, bool publish_levels = false, std::string node = "sjc") {
    StatsConfig config;
    config.prefix = ".stats";
    config.levels = 2;
    config.node = node;
    config.publish_levels = publish_levels;
    config.count_paths = true;
    auto stats = Stats::Create(config, &origin_, &time_.scheduler(), &time_.clock());
    ASSERT_TRUE(stats.ok()) << stats.status();
    stats_ = *stats;
    announcements_ = origin_.Announced(Path(".stats"));
    NodePublisher::Options options;
    options.origin = &origin_;
    options.scheduler = &time_.scheduler();
    options.clock = &time_.clock();
    options.paths = stats_.paths();
    options.presence = stats_.presence();
    options.prefix = Path(".stats");
    options.node = Path(node);
    options.depth = depth;
    options.interval = kInterval;
    auto publisher = NodePublisher::Create(options);
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *publisher;
  }

  // Announcements since the last call, as "+path" / "-path".
  std::vector<std::string> TakeAnnouncements() {
    std::vector<std::string> out;
    while (auto a = announcements_->Next()) out.push_back((a->active ? "+" : "-") + a->path.str());
    return out;
  }

  std::unique_ptr<TrackConsumer> Subscribe(const std::string& broadcast, const std::string& track) {
    auto consumer = origin_.Subscribe(Path(broadcast), track);
    EXPECT_TRUE(consumer.ok()) << broadcast << " " << track << ": " << consumer.status();
    return consumer.ok() ? std::move(*consumer) : nullptr;
  }

  // The frames `consumer` got since the last call.
  static std::vector<std::string> Frames(TrackConsumer& consumer) {
    std::vector<std::string> out;
    while (auto g = consumer.Next()) out.push_back(*g->frame);
    return out;
  }

  Origin origin_;
  ::moq_stats::test::SimulatedTime time_;
  Stats stats_;
  std::unique_ptr<AnnouncementConsumer> announcements_;
  std::shared_ptr<NodePublisher> publisher_;
};

}  // namespace moq_stats::server::test

#endif  // MOQ_STATS_TESTS_SERVER_NODE_TEST_TOOLS_NODE_PUBLISHER_FIXTURE_H_
