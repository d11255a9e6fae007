// Checks deploy/Dockerfile against the real daemon: its ENTRYPOINT and CMD
// are run through the built moq-stats-sidecar with --check-config, and the
// ports it exposes, the directories it makes and the user it runs as are
// compared with what the daemon reports. The helpers are in
// test_tools/deploy_config_tools.h.

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

using ::testing::HasSubstr;

TEST(DockerfileTest, EntrypointAndCmdPassCheckConfig) {
  absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
  ASSERT_TRUE(stage.ok()) << stage.status();
  EXPECT_EQ(stage->entrypoint[0], "/usr/local/bin/moq-stats-sidecar");
  absl::StatusOr<Launch> launch = DockerLaunch();
  ASSERT_TRUE(launch.ok()) << launch.status();
  absl::StatusOr<Settings> settings = CheckConfig(*launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(Directory(UnixSocketPath(*settings)), "/run/moq-stats");
  EXPECT_EQ(Directory(settings->at("checkpoint-path")), "/var/lib/moq-stats");
  // The TCP listener beyond the container takes writes only with a token
  // from a mounted secret, never --insecure-listen.
  auto token = settings->find("auth-token-file");
  ASSERT_NE(token, settings->end()) << "--check-config shows no auth-token-file";
  EXPECT_EQ(token->second, "/run/secrets/moq-stats-token");
  auto insecure = settings->find("insecure-listen");
  if (insecure != settings->end()) {
    EXPECT_EQ(insecure->second, "false");
  }
}

TEST(DockerfileTest, ExposesExactlyTheTcpPortsItListensOn) {
  absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
  ASSERT_TRUE(stage.ok()) << stage.status();
  absl::StatusOr<Launch> launch = DockerLaunch();
  ASSERT_TRUE(launch.ok()) << launch.status();
  absl::StatusOr<Settings> settings = CheckConfig(*launch);
  ASSERT_TRUE(settings.ok()) << settings.status();

  std::set<std::string> listening;
  std::vector<std::string> tcp = TcpListeners(*settings);
  if (!settings->at("admin-listen").empty()) tcp.push_back(settings->at("admin-listen"));
  for (const std::string& address : tcp) {
    auto [host, port] = HostPort(address);
    EXPECT_TRUE(IsWildcardHost(host)) << address << " is not reachable from outside the container";
    listening.insert(port);
  }
  std::set<std::string> exposed;
  for (const std::string& e : stage->expose) {
    absl::string_view port = e;
    absl::ConsumeSuffix(&port, "/tcp");
    exposed.insert(std::string(port));
  }
  EXPECT_FALSE(exposed.empty()) << "no EXPOSE in the final stage";
  EXPECT_EQ(exposed, listening);
}

TEST(DockerfileTest, RunsSlimNonRootAndStopsOnSigterm) {
  absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
  ASSERT_TRUE(stage.ok()) << stage.status();
  EXPECT_EQ(stage->from, "debian:bookworm-slim");
  EXPECT_EQ(stage->stop_signal, "SIGTERM");
  EXPECT_FALSE(stage->user.empty()) << "no USER: the daemon would run as root";
  EXPECT_NE(stage->user.substr(0, stage->user.find(':')), "0");
  EXPECT_NE(stage->user.substr(0, stage->user.find(':')), "root");
  // The directories the ENTRYPOINT points into are made by the image.
  std::string runs = absl::StrJoin(stage->run, "\n");
  EXPECT_THAT(runs, HasSubstr("/run/moq-stats"));
  EXPECT_THAT(runs, HasSubstr("/var/lib/moq-stats"));
}

}  // namespace
}  // namespace moq_stats::deploy::test
