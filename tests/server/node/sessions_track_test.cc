// The frames of a sessions track: moq's Presence objects keyed by auth root
// in byte order, present while live or changed, written only on change.

#include "server/node/sessions_track.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

TEST(SessionsTrackTest, TheFirstTickWritesTheEmptyObject) {
  SessionsTrack track;
  EXPECT_EQ(track.Tick({}), std::optional<std::string>("{}"));
  EXPECT_EQ(track.Tick({}), std::nullopt);
}

TEST(SessionsTrackTest, RootsInByteOrderTheEmptyRootFirst) {
  SessionsTrack track;
  EXPECT_EQ(track.Tick({{"acme", {5, 3}}, {"Acme", {1, 0}}, {"", {2, 1}}}),
            std::optional<std::string>("{\"\":{\"sessions\":2,\"sessions_closed\":1},"
                                       "\"Acme\":{\"sessions\":1,\"sessions_closed\":0},"
                                       "\"acme\":{\"sessions\":5,\"sessions_closed\":3}}"));
}

TEST(SessionsTrackTest, AClosedRootShowsItsFinalCountsOnceThenIsDropped) {
  SessionsTrack track;
  ASSERT_TRUE(track.Tick({{"a", {1, 0}}, {"b", {1, 0}}}));
  EXPECT_EQ(track.Tick({{"a", {1, 0}}, {"b", {1, 0}}}), std::nullopt);  // steady: nothing written
  EXPECT_EQ(track.Tick({{"a", {1, 1}}, {"b", {1, 0}}}),
            std::optional<std::string>(
                "{\"a\":{\"sessions\":1,\"sessions_closed\":1},\"b\":{\"sessions\":1,\"sessions_closed\":0}}"));
  // Still in the report (someone holds it) but closed and unchanged: gone.
  EXPECT_EQ(track.Tick({{"a", {1, 1}}, {"b", {1, 0}}}),
            std::optional<std::string>("{\"b\":{\"sessions\":1,\"sessions_closed\":0}}"));
  EXPECT_EQ(track.remembered(), 2u);
}

TEST(SessionsTrackTest, ARootOpenedAndClosedWithinOneTickShowsOnce) {
  SessionsTrack track;
  ASSERT_TRUE(track.Tick({}));
  EXPECT_EQ(track.Tick({{"a", {1, 1}}}), std::optional<std::string>("{\"a\":{\"sessions\":1,\"sessions_closed\":1}}"));
  EXPECT_EQ(track.Tick({}), std::optional<std::string>("{}"));
}

TEST(SessionsTrackTest, RootsAreEscapedAsJsonStrings) {
  SessionsTrack track;
  EXPECT_EQ(track.Tick({{"a\"b", {1, 0}}}),
            std::optional<std::string>("{\"a\\\"b\":{\"sessions\":1,\"sessions_closed\":0}}"));
}

}  // namespace
}  // namespace moq_stats::server
