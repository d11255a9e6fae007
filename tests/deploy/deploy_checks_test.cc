// The deploy checks themselves: on every deployment the --check-config run
// can fail (an injected bogus flag is refused), and the readers of
// test_tools/ read what they claim and refuse what they do not understand,
// on small inputs.

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

using ::testing::ElementsAre;

// ---------------------------------------------------------------------------
// Every deployment: the check can fail.

TEST(DeployConfigTest, InjectedBogusFlagFailsWithStatus2) {
  absl::StatusOr<Launch> docker = DockerLaunch();
  ASSERT_TRUE(docker.ok()) << docker.status();
  absl::StatusOr<SystemdSetup> systemd = LoadSystemd();
  ASSERT_TRUE(systemd.ok()) << systemd.status();
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  for (const Launch* launch : {&*docker, &systemd->launch, &m.launch}) {
    SCOPED_TRACE(launch->where);
    ExpectBogusFlagRejected(*launch);
  }
}

// ---------------------------------------------------------------------------
// The readers themselves, on small inputs: they must read what they claim
// and refuse what they do not understand.

TEST(DeployReadersTest, JsonStringArray) {
  absl::StatusOr<std::vector<std::string>> a = ParseJsonStringArray(R"( ["/bin/x", "--a=\"b\"", "c\\d", "\u0041"] )");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(*a, ElementsAre("/bin/x", "--a=\"b\"", "c\\d", "A"));
  EXPECT_FALSE(ParseJsonStringArray(R"(["a",])").ok());
  EXPECT_FALSE(ParseJsonStringArray(R"(["a"] x)").ok());
  EXPECT_FALSE(ParseJsonStringArray(R"(["a", 1])").ok());
}

TEST(DeployReadersTest, DockerfileFinalStageWithContinuationsAndComments) {
  absl::StatusOr<DockerfileFinalStage> stage = ReadDockerfile(
      "# syntax=docker/dockerfile:1\n"
      "FROM debian AS build\n"
      "ENTRYPOINT [\"/wrong\"]\n"
      "FROM debian:bookworm-slim\n"
      "RUN a \\\n"
      "# a comment inside\n"
      "    b\n"
      "EXPOSE 1/tcp 2\n"
      "ENTRYPOINT [\"/bin/d\", \\\n"
      "            \"--x=1\"]\n");
  ASSERT_TRUE(stage.ok()) << stage.status();
  EXPECT_THAT(stage->entrypoint, ElementsAre("/bin/d", "--x=1"));
  EXPECT_FALSE(stage->has_cmd);
  EXPECT_THAT(stage->expose, ElementsAre("1/tcp", "2"));
  EXPECT_THAT(stage->run, ElementsAre("a      b"));
  EXPECT_FALSE(ReadDockerfile("FROM x\nENTRYPOINT /bin/d --x\n").ok()) << "shell form must fail";
  EXPECT_FALSE(ReadDockerfile("FROM x\nCMD [\"--x\"]\n").ok()) << "no ENTRYPOINT must fail";
  EXPECT_FALSE(ReadDockerfile("# nothing\n").ok());
  // FROM takes the defaults of the ARGs before the first FROM.
  absl::StatusOr<DockerfileFinalStage> from_arg =
      ReadDockerfile("ARG BASE=debian:bookworm-slim\nARG OTHER=x\nFROM ${BASE}\nENTRYPOINT [\"/d\"]\n");
  ASSERT_TRUE(from_arg.ok()) << from_arg.status();
  EXPECT_EQ(from_arg->from, "debian:bookworm-slim");
  EXPECT_EQ(ReadDockerfile("ARG BASE=a\nFROM $BASE\nENTRYPOINT [\"/d\"]\n")->from, "a");
  EXPECT_FALSE(ReadDockerfile("ARG BASE\nFROM ${BASE}\nENTRYPOINT [\"/d\"]\n").ok()) << "no default must fail";
}

TEST(DeployReadersTest, SystemdUnitAndExecStart) {
  absl::StatusOr<std::vector<UnitSetting>> unit = ReadSystemdUnit(
      "[Service]\n"
      "ExecStart=/bin/d \\\n"
      "  # ignored\n"
      "  \"a b\" 'c d' e\\x20f 100%% \\\n"
      "  --g=h\n"
      "; comment\n"
      "TimeoutStopSec=1min 30s\n");
  ASSERT_TRUE(unit.ok()) << unit.status();
  std::vector<std::string> exec = UnitValues(*unit, "Service", "ExecStart");
  ASSERT_EQ(exec.size(), 1u);
  absl::StatusOr<std::vector<std::string>> words = SplitExecStart(exec[0]);
  ASSERT_TRUE(words.ok()) << words.status();
  EXPECT_THAT(*words, ElementsAre("/bin/d", "a b", "c d", "e f", "100%", "--g=h"));
  EXPECT_FALSE(SplitExecStart("/bin/d %t/x").ok());
  EXPECT_FALSE(SplitExecStart("/bin/d $FLAGS").ok());
  EXPECT_FALSE(SplitExecStart("-/bin/d").ok());
  EXPECT_FALSE(SplitExecStart("/bin/d \"open").ok());
  EXPECT_FALSE(ReadSystemdUnit("Key=outside\n").ok());
  EXPECT_FALSE(ReadSystemdUnit("[S]\nnot a setting\n").ok());
}

TEST(DeployReadersTest, SystemdTimespan) {
  EXPECT_EQ(*ParseSystemdTimespan("20s"), absl::Seconds(20));
  EXPECT_EQ(*ParseSystemdTimespan("1min 30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseSystemdTimespan("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseSystemdTimespan("90"), absl::Seconds(90));
  EXPECT_EQ(*ParseSystemdTimespan("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseSystemdTimespan("infinity"), absl::InfiniteDuration());
  EXPECT_FALSE(ParseSystemdTimespan("5 parsecs").ok());
  EXPECT_FALSE(ParseSystemdTimespan("").ok());
}

TEST(DeployReadersTest, EnvironmentFile) {
  absl::StatusOr<std::vector<EnvAssignment>> env = ReadEnvironmentFile(
      "# Prose, even with an = sign in it.\n"
      "#A=1\n"
      "# B=\"two words\"\n"
      "C=3\n"
      "; D=4\n");
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_EQ(env->size(), 4u);
  EXPECT_EQ((*env)[0].name, "A");
  EXPECT_TRUE((*env)[0].commented);
  EXPECT_EQ((*env)[1].value, "two words");
  EXPECT_FALSE((*env)[2].commented);
  EXPECT_EQ((*env)[3].name, "D");
  EXPECT_FALSE(ReadEnvironmentFile("export A=1\n").ok());
  EXPECT_FALSE(ReadEnvironmentFile("A=1\n#A=2\n").ok());
}

TEST(DeployReadersTest, YamlSubset) {
  absl::StatusOr<std::vector<YamlNode>> docs = ReadYamlSubset(
      "# leading comment\n"
      "a:\n"
      "  b: \"x # not a comment\"  # a comment\n"
      "  list:\n"
      "  - one\n"
      "  - 'it''s'\n"
      "  items:\n"
      "    - name: n1\n"
      "      value: \"v1\"\n"
      "    - name: n2\n"
      "      valueFrom:\n"
      "        fieldRef:\n"
      "          fieldPath: metadata.name\n"
      "  empty: {}\n"
      "  url: http://x:80/y\n"
      "---\n"
      "kind: Second\n");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  const YamlNode& a = (*docs)[0];
  EXPECT_EQ(a.At("a.b")->scalar, "x # not a comment");
  ASSERT_EQ(a.At("a.list")->seq.size(), 2u);
  EXPECT_EQ(a.At("a.list")->seq[1].scalar, "it's");
  const YamlNode* items = a.At("a.items");
  ASSERT_EQ(items->seq.size(), 2u);
  EXPECT_EQ(items->seq[0].Get("value")->scalar, "v1");
  EXPECT_EQ(items->seq[1].At("valueFrom.fieldRef.fieldPath")->scalar, "metadata.name");
  EXPECT_EQ(a.At("a.empty")->kind, YamlNode::Kind::kMap);
  EXPECT_EQ(a.At("a.url")->scalar, "http://x:80/y");
  EXPECT_EQ((*docs)[1].Get("kind")->scalar, "Second");

  EXPECT_FALSE(ReadYamlSubset("a: [x, y]\n").ok()) << "flow sequence";
  EXPECT_FALSE(ReadYamlSubset("a: |\n  text\n").ok()) << "block scalar";
  EXPECT_FALSE(ReadYamlSubset("a: 1\na: 2\n").ok()) << "duplicate key";
  EXPECT_FALSE(ReadYamlSubset("a: plain\n  continued\n").ok()) << "multi-line scalar";
  EXPECT_FALSE(ReadYamlSubset("a: &anchor x\n").ok()) << "anchor";
  EXPECT_FALSE(ReadYamlSubset("a:\n\t- x\n").ok()) << "tab";
}

}  // namespace
}  // namespace moq_stats::deploy::test
