#include "server/file_limit.h"

#include <sys/resource.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using ::testing::HasSubstr;

TEST(FileLimitTest, RaisesTheSoftLimitToTheHardOne) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < 64) GTEST_SKIP() << "hard open-file limit " << limit.rlim_max << " is too low to lower";
  // Lowering the soft limit is always allowed.
  rlimit lowered = limit;
  lowered.rlim_cur = 32;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  absl::StatusOr<FileLimit> raised = RaiseFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->soft_before, 32u);
  EXPECT_EQ(raised->soft, limit.rlim_max);
  EXPECT_EQ(raised->hard, limit.rlim_max);
  EXPECT_TRUE(raised->raised());
  EXPECT_THAT(raised->Describe(), HasSubstr("raised from 32 to "));
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, limit.rlim_max);

  // Already at the hard limit: nothing to do.
  absl::StatusOr<FileLimit> again = RaiseFileLimit();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->raised());
  EXPECT_THAT(again->Describe(), HasSubstr("open files: soft limit "));
}

}  // namespace
}  // namespace moq_stats::server
