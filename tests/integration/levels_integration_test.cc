// End to end: the bumps a relay sends land on every level of the broadcast's
// path, in the tier of its handle and the role of the delta, and nowhere
// else; ListLevels pages through them in key order.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::ElementsAre;

class LevelsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }

  DaemonProcess daemon_{{"--stats-levels=2"}};
};

// Handles in both tiers, some on the same path; paths deeper than the levels,
// at the depth, and needing normalisation.
pb::Batch FirstBatch() {
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "live/cam1/video", pb::TIER_EXTERNAL);
  *batch.add_defines() = MakeDefine(2, "live/cam1/video", pb::TIER_INTERNAL);
  *batch.add_defines() = MakeDefine(3, "live/cam2", pb::TIER_EXTERNAL);
  *batch.add_defines() = MakeDefine(4, "//vod//x/", pb::TIER_INTERNAL);
  *batch.add_defines() = MakeDefine(5, "livestream/a", pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 2, 0, 1000, 10, 2});
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_SUBSCRIBER, {3, 0, 3, 0, 3000, 30, 6});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {1, 0, 1, 0, 500, 5, 1});
  *batch.add_deltas() = MakeDelta(3, pb::ROLE_PUBLISHER, {1, 1, 0, 0, 7, 0, 0});
  *batch.add_deltas() = MakeDelta(4, pb::ROLE_PUBLISHER, {0, 0, 1, 1, 11, 1, 1});
  // Sums only: no guard ever opens on livestream/a.
  *batch.add_deltas() = MakeDelta(5, pb::ROLE_SUBSCRIBER, {0, 0, 0, 0, 64, 4, 0});
  return batch;
}

pb::Batch SecondBatch() {
  pb::Batch batch;
  batch.set_sequence(2);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 1, 24, 0, 0});
  // Two entries of one handle and role add up.
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {0, 0, 0, 0, 6, 0, 0});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {0, 0, 0, 0, 4, 1, 0});
  return batch;
}

TEST_F(LevelsIntegrationTest, BumpsReachEveryLevelOfThePathInTheirTierAndRoleOnly) {
  RelayStream relay(daemon_.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open("levels-relay", &welcome));
  EXPECT_FALSE(welcome.resumed());
  EXPECT_EQ(welcome.applied_sequence(), 0u);
  EXPECT_EQ(welcome.limits().max_handles(), 65536u);
  EXPECT_EQ(welcome.limits().max_batch_entries(), 4096u);

  CountModel model(2);
  ASSERT_TRUE(relay.Send(FirstBatch()));
  model.Apply(FirstBatch());
  std::optional<pb::Ack> ack = relay.ReadAck();
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->applied_sequence(), 1u);
  ASSERT_TRUE(relay.Send(SecondBatch()));
  model.Apply(SecondBatch());
  ack = relay.ReadAck();
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->applied_sequence(), 2u);

  auto stub = daemon_.NewStub();
  // Worked out by hand for the root and the first and full segments of
  // live/cam1/video: external publisher is handles 1 and 3, internal
  // subscriber is handle 2.
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  EXPECT_EQ(root.key(), "");
  EXPECT_EQ(root.advertised_path(), ".stats/prefix");
  EXPECT_TRUE(SnapshotEq(root.external_publisher(), MakeSnapshot(2, 1, 2, 1, 1031, 10, 2)));
  EXPECT_TRUE(SnapshotEq(root.external_subscriber(), MakeSnapshot(3, 0, 3, 0, 3064, 34, 6)));
  EXPECT_TRUE(SnapshotEq(root.internal_publisher(), MakeSnapshot(0, 0, 1, 1, 11, 1, 1)));
  EXPECT_TRUE(SnapshotEq(root.internal_subscriber(), MakeSnapshot(1, 0, 1, 0, 510, 6, 1)));

  pb::Level live;
  ASSERT_GRPC_OK(GetLevel(*stub, "live", &live));
  EXPECT_EQ(live.advertised_path(), ".stats/prefix/live");
  EXPECT_TRUE(SnapshotEq(live.external_publisher(), MakeSnapshot(2, 1, 2, 1, 1031, 10, 2)));
  EXPECT_TRUE(SnapshotEq(live.external_subscriber(), MakeSnapshot(3, 0, 3, 0, 3000, 30, 6)));
  EXPECT_TRUE(SnapshotEq(live.internal_publisher(), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(live.internal_subscriber(), MakeSnapshot(1, 0, 1, 0, 510, 6, 1)));

  // The key is normalised as a path.
  pb::Level cam1;
  ASSERT_GRPC_OK(GetLevel(*stub, "/live//cam1/", &cam1));
  EXPECT_EQ(cam1.key(), "live/cam1");
  EXPECT_EQ(cam1.advertised_path(), ".stats/prefix/live/cam1");
  EXPECT_TRUE(SnapshotEq(cam1.external_publisher(), MakeSnapshot(1, 0, 2, 1, 1024, 10, 2)));
  EXPECT_TRUE(SnapshotEq(cam1.external_subscriber(), MakeSnapshot(3, 0, 3, 0, 3000, 30, 6)));
  EXPECT_TRUE(SnapshotEq(cam1.internal_publisher(), pb::Snapshot()));
  EXPECT_TRUE(SnapshotEq(cam1.internal_subscriber(), MakeSnapshot(1, 0, 1, 0, 510, 6, 1)));
  // Subscriptions are open on it: its publisher runs.
  EXPECT_TRUE(cam1.publishing());

  // Two levels deep, no further.
  pb::Level full;
  grpc::Status deeper = GetLevel(*stub, "live/cam1/video", &full);
  EXPECT_EQ(deeper.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(deeper);

  // Every level, every (tier, role), against the model.
  const std::vector<std::string> keys = {"",           "live",         "live/cam1", "live/cam2",
                                         "livestream", "livestream/a", "vod",       "vod/x"};
  EXPECT_EQ(std::vector<std::string>(model.keys().begin(), model.keys().end()), keys);
  for (const std::string& key : keys) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << "level \"" << key << "\" " << TierRoleName(tier, role);
      }
    }
  }
  // A subscription never opened there: no publisher.
  pb::Level livestream;
  ASSERT_GRPC_OK(GetLevel(*stub, "livestream/a", &livestream));
  EXPECT_FALSE(livestream.publishing());

  EXPECT_GRPC_OK(relay.Close());
}

TEST_F(LevelsIntegrationTest, HandlesAreRedefinedAsIsAndReusableAfterRelease) {
  RelayStream relay(daemon_.channel());
  ASSERT_GRPC_OK(relay.Open("handles-relay", nullptr));
  CountModel model(2);
  std::vector<pb::Batch> batches(3);
  batches[0].set_sequence(1);
  *batches[0].add_defines() = MakeDefine(7, "reuse/first", pb::TIER_EXTERNAL);
  *batches[0].add_deltas() = MakeDelta(7, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 10, 1, 1});
  // The same definition spelled differently is accepted as is; the guards
  // close and the handle is released in the same batch (releases come last).
  batches[1].set_sequence(5);  // sequences need not be contiguous
  *batches[1].add_defines() = MakeDefine(7, "//reuse//first/", pb::TIER_EXTERNAL);
  *batches[1].add_deltas() = MakeDelta(7, pb::ROLE_PUBLISHER, {0, 1, 0, 1, 5, 0, 0});
  batches[1].add_releases(7);
  // Released, the number takes another path in another tier.
  batches[2].set_sequence(6);
  *batches[2].add_defines() = MakeDefine(7, "reuse/second", pb::TIER_INTERNAL);
  *batches[2].add_deltas() = MakeDelta(7, pb::ROLE_SUBSCRIBER, {0, 0, 0, 0, 3, 0, 0});
  for (const pb::Batch& batch : batches) {
    ASSERT_TRUE(relay.Send(batch));
    model.Apply(batch);
  }
  ASSERT_GRPC_OK(relay.WaitAck(6));
  auto stub = daemon_.NewStub();
  for (const std::string key : {"reuse", "reuse/first", "reuse/second"}) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub, key, &level));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << key << " " << TierRoleName(tier, role);
      }
    }
  }
  pb::Level first;
  ASSERT_GRPC_OK(GetLevel(*stub, "reuse/first", &first));
  EXPECT_TRUE(SnapshotEq(first.external_publisher(), MakeSnapshot(1, 1, 1, 1, 15, 1, 1)));
  pb::Level second;
  ASSERT_GRPC_OK(GetLevel(*stub, "reuse/second", &second));
  EXPECT_TRUE(SnapshotEq(second.internal_subscriber(), MakeSnapshot(0, 0, 0, 0, 3, 0, 0)));
  EXPECT_TRUE(SnapshotEq(second.external_publisher(), pb::Snapshot()));
  EXPECT_GRPC_OK(relay.Close());
}

std::vector<std::string> KeysOf(const std::vector<pb::Level>& levels) {
  std::vector<std::string> keys;
  for (const pb::Level& level : levels) keys.push_back(level.key());
  return keys;
}

const std::vector<std::string> kAllKeys = {"",           "live",         "live/cam1", "live/cam2",
                                           "livestream", "livestream/a", "vod",       "vod/x"};

TEST_F(LevelsIntegrationTest, ListLevelsPagesInKeyOrder) {
  RelayStream relay(daemon_.channel());
  ASSERT_GRPC_OK(relay.Open("pages-relay", nullptr));
  ASSERT_TRUE(relay.Send(FirstBatch()));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  auto stub = daemon_.NewStub();

  for (uint32_t page_size : {2u, 3u, 8u, 100u}) {
    std::vector<pb::Level> levels;
    int pages = 0;
    ASSERT_GRPC_OK(ListAllLevels(*stub, "", page_size, &levels, &pages));
    EXPECT_EQ(KeysOf(levels), kAllKeys) << "page size " << page_size;
    EXPECT_EQ(pages, static_cast<int>((kAllKeys.size() + page_size - 1) / page_size)) << "page size " << page_size;
    // Each listed level reads as GetLevel does.
    for (const pb::Level& listed : levels) {
      pb::Level got;
      ASSERT_GRPC_OK(GetLevel(*stub, listed.key(), &got));
      EXPECT_TRUE(SameCounts(listed, got));
      EXPECT_EQ(listed.advertised_path(), got.advertised_path());
    }
  }

  // A prefix takes whole segments: "live" is not a prefix of "livestream".
  std::vector<pb::Level> live;
  int pages = 0;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "live", 1, &live, &pages));
  EXPECT_THAT(KeysOf(live), ElementsAre("live", "live/cam1", "live/cam2"));
  EXPECT_EQ(pages, 3);

  std::vector<pb::Level> none;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "nothing/here", 10, &none));
  EXPECT_TRUE(none.empty());

  EXPECT_GRPC_OK(relay.Close());
}

// Regression test; it once exposed this, now fixed: StatsService::ListLevels (server/stats_service.cc) sets
// next_page_token to the key of the page's last level. When that level is
// the root, whose key is "", the token is "" -- which means "last page". So
// ListLevels{prefix: "", page_size: 1} returns the root alone with an empty
// token, and a client paging one level at a time never sees another level
// (the token cannot name "after the root" either: "" starts over).
TEST_F(LevelsIntegrationTest, ListLevelsPageOfOneGetsPastTheRoot) {
  RelayStream relay(daemon_.channel());
  ASSERT_GRPC_OK(relay.Open("pages-relay", nullptr));
  ASSERT_TRUE(relay.Send(FirstBatch()));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  auto stub = daemon_.NewStub();

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  pb::ListLevelsRequest request;
  request.set_page_size(1);
  pb::ListLevelsResponse response;
  ASSERT_GRPC_OK(stub->ListLevels(&context, request, &response));
  ASSERT_EQ(response.levels_size(), 1);
  EXPECT_EQ(response.levels(0).key(), "");
  EXPECT_NE(response.next_page_token(), "") << "eight levels exist, yet the first page of one says it is the last";

  std::vector<pb::Level> levels;
  ASSERT_GRPC_OK(ListAllLevels(*stub, "", 1, &levels));
  EXPECT_EQ(KeysOf(levels), kAllKeys);
  EXPECT_GRPC_OK(relay.Close());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
