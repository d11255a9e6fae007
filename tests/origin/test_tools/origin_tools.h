#ifndef MOQ_STATS_TESTS_ORIGIN_TEST_TOOLS_ORIGIN_TOOLS_H_
#define MOQ_STATS_TESTS_ORIGIN_TEST_TOOLS_ORIGIN_TOOLS_H_

// Helpers shared by the origin tests: publish, create tracks and subscribe
// with a gtest expectation on the status, and drain consumers into strings.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/origin.h"

namespace moq_stats::test {

// Reads every announcement waiting on `consumer` as "+path" / "-path".
inline std::vector<std::string> DrainAnnouncements(AnnouncementConsumer& consumer) {
  std::vector<std::string> out;
  while (std::optional<Announcement> a = consumer.Next()) {
    out.push_back(absl::StrCat(a->active ? "+" : "-", a->path.str()));
  }
  return out;
}

// Reads every group waiting on `consumer` as "sequence:frame".
inline std::vector<std::string> DrainGroups(TrackConsumer& consumer) {
  std::vector<std::string> out;
  while (std::optional<Group> g = consumer.Next()) {
    out.push_back(absl::StrCat(g->sequence, ":", *g->frame));
  }
  return out;
}

inline std::unique_ptr<BroadcastProducer> MustPublish(Origin& origin, std::string_view path) {
  auto producer = origin.Publish(Path(path));
  EXPECT_TRUE(producer.ok()) << producer.status();
  return producer.ok() ? std::move(producer).value() : nullptr;
}

inline TrackProducer* MustCreateTrack(BroadcastProducer& broadcast, std::string_view name) {
  auto track = broadcast.CreateTrack(name);
  EXPECT_TRUE(track.ok()) << track.status();
  return track.ok() ? *track : nullptr;
}

inline std::unique_ptr<TrackConsumer> MustSubscribe(Origin& origin, std::string_view path, std::string_view track) {
  auto consumer = origin.Subscribe(Path(path), track);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  return consumer.ok() ? std::move(consumer).value() : nullptr;
}

}  // namespace moq_stats::test

#endif  // MOQ_STATS_TESTS_ORIGIN_TEST_TOOLS_ORIGIN_TOOLS_H_
