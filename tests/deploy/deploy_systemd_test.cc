// Checks deploy/systemd/ against the real daemon: the unit's ExecStart with
// every variable of the EnvironmentFile example is run through the built
// moq-stats-sidecar with --check-config, and the unit's timeouts,
// directories and group are compared with what the daemon reports. The
// helpers are in test_tools/deploy_config_tools.h.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/test_tools/deploy_config_tools.h"

namespace moq_stats::deploy::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

std::string UnitValue(const SystemdSetup& setup, absl::string_view key) {
  std::vector<std::string> values = UnitValues(setup.unit, "Service", key);
  if (values.size() != 1) {
    ADD_FAILURE() << "expected one " << key << "= in [Service], found " << values.size();
    return "";
  }
  return values[0];
}

TEST(SystemdUnitTest, ExecStartWithEveryExampleVariablePassesCheckConfig) {
  absl::StatusOr<SystemdSetup> setup = LoadSystemd();
  ASSERT_TRUE(setup.ok()) << setup.status();
  absl::StatusOr<Settings> settings = CheckConfig(setup->launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
}

TEST(SystemdUnitTest, ExampleVariablesAreRealAndTakeEffect) {
  absl::StatusOr<SystemdSetup> setup = LoadSystemd();
  ASSERT_TRUE(setup.ok()) << setup.status();
  ExpectVariablesTakeEffect(setup->launch);
}

TEST(SystemdUnitTest, TimeoutStopSecExceedsShutdownTimeout) {
  absl::StatusOr<SystemdSetup> setup = LoadSystemd();
  ASSERT_TRUE(setup.ok()) << setup.status();
  absl::StatusOr<Settings> settings = CheckConfig(setup->launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(UnitValue(*setup, "KillSignal"), "SIGTERM");
  absl::StatusOr<absl::Duration> stop = ParseSystemdTimespan(UnitValue(*setup, "TimeoutStopSec"));
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_GT(*stop, ShutdownTimeout(*settings))
      << "systemd would SIGKILL the daemon before its --shutdown-timeout ran out";
}

TEST(SystemdUnitTest, SocketAndCheckpointLiveInTheUnitsDirectories) {
  absl::StatusOr<SystemdSetup> setup = LoadSystemd();
  ASSERT_TRUE(setup.ok()) << setup.status();
  absl::StatusOr<Settings> settings = CheckConfig(setup->launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  // The daemon sends READY=1 on $NOTIFY_SOCKET (tests/integration/
  // readiness_integration_test); only its main process does.
  EXPECT_EQ(UnitValue(*setup, "Type"), "notify");
  EXPECT_EQ(UnitValue(*setup, "NotifyAccess"), "main");
  EXPECT_EQ(Directory(UnixSocketPath(*settings)), absl::StrCat("/run/", UnitValue(*setup, "RuntimeDirectory")));
  EXPECT_EQ(Directory(settings->at("checkpoint-path")), absl::StrCat("/var/lib/", UnitValue(*setup, "StateDirectory")));
}

TEST(SystemdUnitTest, SocketGroupIsOneTheSysusersFileCreates) {
  absl::StatusOr<SystemdSetup> setup = LoadSystemd();
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(UnitValue(*setup, "DynamicUser"), "yes");
  std::string group = UnitValue(*setup, "Group");
  ASSERT_FALSE(group.empty());
  absl::StatusOr<std::string> sysusers = ReadSourceFile(kSysusersFile);
  ASSERT_TRUE(sysusers.ok()) << sysusers.status();
  std::vector<std::vector<std::string>> entries;
  for (absl::string_view line : absl::StrSplit(*sysusers, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    entries.push_back(absl::StrSplit(line, ' ', absl::SkipWhitespace()));
  }
  EXPECT_THAT(entries, Contains(ElementsAre("g", group, "-")));
}

}  // namespace
}  // namespace moq_stats::deploy::test
