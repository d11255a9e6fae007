// EndedSessions: bounded in time and count, the oldest forgotten first,
// through a checkpoint.

#include "server/sessions/ended_sessions.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"

namespace moq_stats::server {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(EndedSessionsTest, RemembersUntilItsTimeToTheMillisecond) {
  EndedSessions ended(absl::Minutes(10), 100);
  ended.Remember("a", 7, kStart);
  EXPECT_EQ(ended.Find("a", kStart + absl::Minutes(10)), 7u);
  EXPECT_EQ(ended.Find("b", kStart), std::nullopt);
  EXPECT_EQ(ended.Find("a", kStart + absl::Minutes(10) + absl::Milliseconds(1)), std::nullopt);
  EXPECT_EQ(ended.size(), 0u);
}

TEST(EndedSessionsTest, PastTheCountTheOldestGoFirst) {
  EndedSessions ended(absl::Minutes(10), 2);
  ended.Remember("a", 1, kStart);
  ended.Remember("b", 2, kStart + absl::Seconds(1));
  ended.Remember("a", 3, kStart + absl::Seconds(2));  // again: now the newest
  ended.Remember("c", 4, kStart + absl::Seconds(3));
  EXPECT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended.Find("b", kStart + absl::Seconds(3)), std::nullopt);
  EXPECT_EQ(ended.Find("a", kStart + absl::Seconds(3)), 3u);
  EXPECT_EQ(ended.Find("c", kStart + absl::Seconds(3)), 4u);
}

TEST(EndedSessionsTest, ForgetDropsTheEntry) {
  EndedSessions ended(absl::Minutes(10), 2);
  ended.Remember("a", 1, kStart);
  ended.Forget("a");
  ended.Forget("never");
  EXPECT_EQ(ended.size(), 0u);
  EXPECT_EQ(ended.Find("a", kStart), std::nullopt);
}

TEST(EndedSessionsTest, ThroughACheckpointKeepingBoundsAndRefusingBadIds) {
  EndedSessions ended(absl::Minutes(10), 3);
  ended.Remember("old", 1, kStart);
  ended.Remember("new", 2, kStart + absl::Minutes(5));
  moq::stats::v1::Checkpoint checkpoint;
  ended.SaveTo(&checkpoint);
  ASSERT_EQ(checkpoint.expired_sessions_size(), 2);
  moq::stats::v1::CheckpointSession* bad = checkpoint.add_expired_sessions();
  bad->set_session_id(std::string("\xff", 1));
  bad->set_applied_sequence(9);
  bad->set_ended_unix_ms(absl::ToUnixMillis(kStart));

  EndedSessions restored(absl::Minutes(10), 3);
  restored.Restore(checkpoint, kStart + absl::Minutes(12));
  EXPECT_EQ(restored.size(), 1u) << "\"old\" is past its time; the bad id is skipped";
  EXPECT_EQ(restored.Find("new", kStart + absl::Minutes(12)), 2u);
}

}  // namespace
}  // namespace moq_stats::server
