// PublisherSession: lite-05 Track streams (TRACK -> TRACK_INFO) and Fetch
// streams (FETCH -> the latest group's frame on the same stream).

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::ControlStreamType;
using lite::ErrorCode;
using lite::Version;

std::string FetchStream(std::string broadcast, std::string track, uint64_t group) {
  lite::Fetch f;
  f.broadcast = std::move(broadcast);
  f.track = std::move(track);
  f.group = group;
  return ControlStream(ControlStreamType::kFetch, Encode(f, Version::kLite05));
}

TEST(PublisherTrackTest, CapturedTrackInfoDefaults) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"data"});
  const uint64_t id = h.Open(Unhex("06 0f 09 \"sensors/a\" 04 \"data\""));
  EXPECT_EQ(h.Written(id), "06 00 00 53 88 43 e8");
  EXPECT_TRUE(h.mux.stream(id)->fin);
}

TEST(PublisherTrackTest, UnknownTrackIsResetWithNotFound) {
  PublisherHarness h(Version::kLite05);
  h.Publish("sensors/a", {"data"});
  const uint64_t id = h.Open(Unhex("06 0f 09 \"sensors/a\" 04 \"nope\""));
  EXPECT_EQ(h.mux.stream(id)->reset_code, static_cast<uint64_t>(ErrorCode::kNotFound));
  EXPECT_EQ(h.Written(id), "");
  const uint64_t elsewhere = h.Open(Unhex("06 0f 09 \"sensors/b\" 04 \"data\""));
  EXPECT_EQ(h.mux.stream(elsewhere)->reset_code, static_cast<uint64_t>(ErrorCode::kUnroutable));
}

TEST(PublisherFetchTest, LatestGroupIsServedOnTheFetchStream) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  t->WriteFrame("old");
  t->WriteFrame("new");
  const uint64_t id = h.Open(FetchStream("b", "t", 1));
  EXPECT_EQ(h.Written(id), Hex(Unhex("00 03 \"new\"")));
  EXPECT_TRUE(h.mux.stream(id)->fin);
  EXPECT_EQ(h.session->counters().fetches_served, 1u);
  EXPECT_TRUE(h.GroupStreams().empty());
}

TEST(PublisherFetchTest, OtherGroupsAndTracksAreNotFound) {
  PublisherHarness h(Version::kLite05);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  const uint64_t before_any = h.Open(FetchStream("b", "t", 0));
  t->WriteFrame("g0");
  t->WriteFrame("g1");
  const uint64_t old = h.Open(FetchStream("b", "t", 0));
  const uint64_t missing = h.Open(FetchStream("c", "t", 1));
  const uint64_t not_found = static_cast<uint64_t>(ErrorCode::kNotFound);
  EXPECT_EQ(h.mux.stream(before_any)->reset_code, not_found);
  EXPECT_EQ(h.mux.stream(old)->reset_code, not_found);
  EXPECT_EQ(h.mux.stream(missing)->reset_code, static_cast<uint64_t>(ErrorCode::kUnroutable));
  EXPECT_EQ(h.session->counters().fetches_served, 0u);
  EXPECT_FALSE(h.session->closed());
}

}  // namespace
}  // namespace moq_stats::lite::test
