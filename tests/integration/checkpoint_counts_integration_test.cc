// End to end: a checkpoint file that is whole (magic, length and checksum
// right) but whose counts break the invariants is treated as corrupt: moved
// aside, logged, and the daemon starts empty.

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "server/sessions/checkpoint_file.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

TEST(CheckpointCountsIntegrationTest, MoreClosedThanOpenedIsMovedAsideAndTheDaemonStartsEmpty) {
  DaemonProcess daemon;
  pb::Checkpoint checkpoint;
  checkpoint.set_format(1);
  for (const char* key : {"", "live"}) {
    pb::CheckpointLevel* level = checkpoint.add_levels();
    level->set_key(key);
    level->mutable_external_publisher()->set_broadcasts(1);
    level->mutable_external_publisher()->set_broadcasts_closed(2);
  }
  const std::string path = daemon.dir() + "/moq-stats.checkpoint";
  ASSERT_TRUE(server::WriteCheckpointFile(path, checkpoint).ok());

  ASSERT_TRUE(daemon.Start());
  pb::Level root;
  grpc::Status status = GetLevel(*daemon.NewStub(), "", &root);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status) << root.DebugString();
  EXPECT_THAT(daemon.Log(), HasSubstr("more closed than opened"));
  EXPECT_THAT(daemon.Log(), HasSubstr("moved it aside to " + path + ".corrupt-"));
  bool moved = false;
  for (const auto& entry : std::filesystem::directory_iterator(daemon.dir())) {
    moved = moved || entry.path().filename().string().rfind("moq-stats.checkpoint.corrupt-", 0) == 0;
  }
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
