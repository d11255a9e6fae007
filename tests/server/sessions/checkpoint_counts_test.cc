// CheckCheckpointCounts: a checkpoint whose counts break the invariants
// (closed above opened, sessions holding more guards open than their levels
// count) is refused before anything of it is restored.

#include "server/sessions/checkpoint_counts.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session_registry.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using test::OpenTraffic;
using test::SessionRegistryTest;
using test::StatsFixture;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// A level `key` with `open` external publisher broadcasts, `closed` of them
// closed.
pb::CheckpointLevel* AddLevel(pb::Checkpoint* checkpoint, const std::string& key, uint64_t open, uint64_t closed) {
  pb::CheckpointLevel* level = checkpoint->add_levels();
  level->set_key(key);
  level->mutable_external_publisher()->set_broadcasts(open);
  level->mutable_external_publisher()->set_broadcasts_closed(closed);
  return level;
}

// Session `id` holding `broadcasts` external publisher broadcasts on `path`.
void AddSession(pb::Checkpoint* checkpoint, const std::string& id, const std::string& path, uint64_t broadcasts) {
  pb::CheckpointSession* session = checkpoint->add_sessions();
  session->set_session_id(id);
  pb::CheckpointHandle* handle = session->add_handles();
  handle->set_handle(1);
  handle->set_path(path);
  handle->set_tier(pb::TIER_EXTERNAL);
  handle->set_publisher_broadcasts(broadcasts);
}

// "" and "a" with 3 external publisher broadcasts open each (levels = 1).
pb::Checkpoint ThreeOpen() {
  pb::Checkpoint checkpoint;
  checkpoint.set_format(1);
  AddLevel(&checkpoint, "", 5, 2);
  AddLevel(&checkpoint, "a", 3, 0);
  return checkpoint;
}

class CheckpointCountsTest : public ::testing::Test {
 protected:
  StatsFixture f_{1};
};

TEST_F(SessionRegistryTest, CapturedCheckpointPassesWhateverIsOpen) {
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, OpenTraffic(1));
  EXPECT_TRUE(CheckCheckpointCounts(registry_->Capture(0), f_.stats()).ok());
  registry_->Close(s1.attachment);
  EXPECT_TRUE(CheckCheckpointCounts(registry_->Capture(0), f_.stats()).ok());
}

TEST_F(CheckpointCountsTest, GuardsUpToWhatIsOpenPass) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddSession(&checkpoint, "s1", "a/x", 2);
  AddSession(&checkpoint, "s2", "a/y", 1);
  EXPECT_TRUE(CheckCheckpointCounts(checkpoint, f_.stats()).ok());
}

TEST_F(CheckpointCountsTest, MoreClosedThanOpenedIsRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddLevel(&checkpoint, "b", 1, 2);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("level \"b\" external/publisher has 2 of 1 broadcasts"));
}

TEST_F(CheckpointCountsTest, MoreSubscriptionsClosedThanOpenedIsRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  pb::CheckpointLevel* level = AddLevel(&checkpoint, "c", 0, 0);
  level->mutable_internal_subscriber()->set_subscriptions(4);
  level->mutable_internal_subscriber()->set_subscriptions_closed(5);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("level \"c\" internal/subscriber"));
  EXPECT_THAT(Message(status), HasSubstr("5 of 4 subscriptions"));
  EXPECT_THAT(Message(status), HasSubstr("more closed than opened"));
}

TEST_F(CheckpointCountsTest, MoreAnnouncementsClosedThanOpenedIsRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  pb::CheckpointLevel* level = AddLevel(&checkpoint, "c", 0, 0);
  level->mutable_external_subscriber()->set_announced(1);
  level->mutable_external_subscriber()->set_announced_closed(2);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("level \"c\" external/subscriber"));
  EXPECT_THAT(Message(status), HasSubstr("2 of 1 announcements closed"));
}

TEST_F(CheckpointCountsTest, SessionHoldingMoreAnnouncementsThanItsLevelsCountIsRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  for (pb::CheckpointLevel& level : *checkpoint.mutable_levels()) level.mutable_external_publisher()->set_announced(1);
  AddSession(&checkpoint, "s", "a/x", 1);
  checkpoint.mutable_sessions(0)->mutable_handles(0)->set_publisher_announced(1);
  EXPECT_TRUE(CheckCheckpointCounts(checkpoint, f_.stats()).ok());
  checkpoint.mutable_sessions(0)->mutable_handles(0)->set_publisher_announced(2);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("session \"s\" holds 2 announcements open"));
}

TEST_F(CheckpointCountsTest, SessionHoldingMoreThanItsLevelCountsIsRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddSession(&checkpoint, "greedy", "a/x", 4);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("session \"greedy\" holds 4 broadcasts open on level \"\""));
}

TEST_F(CheckpointCountsTest, SessionsTogetherHoldingMoreThanALevelCountsAreRefused) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddLevel(&checkpoint, "b", 1, 0);  // the root has 3 open: 2 on a, 1 on b
  AddSession(&checkpoint, "s1", "a/x", 3);
  AddSession(&checkpoint, "s2", "b", 1);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("session \"s2\" holds 1 broadcasts open on level \"\""));
}

TEST_F(CheckpointCountsTest, GuardsOnADeeperLevelCountOnItToo) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddLevel(&checkpoint, "a/x", 1, 0);
  AddSession(&checkpoint, "s1", "a/x/y", 2);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("on level \"a/x\" external/publisher, where 1 are left open"));
}

TEST_F(CheckpointCountsTest, OnlyTheGuardsOfTheHandlesTierAndRoleCount) {
  pb::Checkpoint checkpoint = ThreeOpen();
  pb::CheckpointSession* session = checkpoint.add_sessions();
  session->set_session_id("internal");
  pb::CheckpointHandle* handle = session->add_handles();
  handle->set_handle(1);
  handle->set_path("a");
  handle->set_tier(pb::TIER_INTERNAL);
  handle->set_publisher_broadcasts(1);
  const absl::Status status = CheckCheckpointCounts(checkpoint, f_.stats());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(Message(status), HasSubstr("internal/publisher, where 0 are left open"));
}

TEST_F(CheckpointCountsTest, HandlesUnderTheStatsPrefixCountNowhere) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddSession(&checkpoint, "own", ".stats/prefix", 9);
  EXPECT_TRUE(CheckCheckpointCounts(checkpoint, f_.stats()).ok());
}

TEST_F(CheckpointCountsTest, ASecondRecordOfASessionIsNotCounted) {
  // Restore keeps the first record of an id only.
  pb::Checkpoint checkpoint = ThreeOpen();
  AddSession(&checkpoint, "s1", "a/x", 3);
  AddSession(&checkpoint, "s1", "a/x", 3);
  EXPECT_TRUE(CheckCheckpointCounts(checkpoint, f_.stats()).ok());
}

TEST_F(CheckpointCountsTest, ADisabledAggregatorRestoresNoCountsAndChecksNone) {
  pb::Checkpoint checkpoint = ThreeOpen();
  AddLevel(&checkpoint, "b", 1, 2);
  AddSession(&checkpoint, "greedy", "a/x", 40);
  EXPECT_TRUE(CheckCheckpointCounts(checkpoint, Stats::Disabled()).ok());
}

}  // namespace
}  // namespace moq_stats::server
