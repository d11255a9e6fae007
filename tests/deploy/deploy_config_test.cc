// Checks the deployment files under deploy/ against the real daemon: each
// file's way of starting moq-stats-sidecar (flags and environment) is read
// back, run through the built binary with --check-config, and the settings
// other parts of the file depend on (ports, paths, timeouts) are compared
// with what the daemon reports.

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/test_tools/dockerfile_reader.h"
#include "tests/deploy/test_tools/run_process.h"
#include "tests/deploy/test_tools/systemd_unit_reader.h"
#include "tests/deploy/test_tools/yaml_subset_reader.h"

#ifndef MOQSTATS_SIDECAR_BINARY
#error "MOQSTATS_SIDECAR_BINARY must name the built moq-stats-sidecar"
#endif
#ifndef MOQSTATS_SOURCE_DIR
#error "MOQSTATS_SOURCE_DIR must name the source tree"
#endif

namespace moqstats::deploy_test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Env = std::vector<std::pair<std::string, std::string>>;
// What --check-config printed: setting name (flag without dashes) -> value.
using Settings = std::map<std::string, std::string>;

constexpr char kDockerfile[] = "deploy/Dockerfile";
constexpr char kUnitFile[] = "deploy/systemd/moq-stats-sidecar.service";
constexpr char kEnvironmentExample[] = "deploy/systemd/moq-stats-sidecar.default";
constexpr char kSysusersFile[] = "deploy/systemd/moq-stats-sidecar.sysusers";
constexpr char kManifest[] = "deploy/kubernetes/relay-with-stats-sidecar.yaml";
constexpr char kServiceProto[] = "proto/moq/stats/v1/stats.proto";
constexpr char kSidecarContainer[] = "moq-stats-sidecar";
// Where the systemd unit expects its EnvironmentFile installed.
constexpr char kEnvironmentFileInstalled[] = "/etc/default/moq-stats-sidecar";

// ---------------------------------------------------------------------------
// Running the daemon.

// How one deployment starts the daemon: the arguments after the program
// name, and the environment it gets (nothing else is inherited).
struct Launch {
  std::string where;  // names the deployment in messages
  std::vector<std::string> flags;
  Env env;
};

absl::StatusOr<std::string> ReadSourceFile(const std::string& relative) {
  std::string path = absl::StrCat(MOQSTATS_SOURCE_DIR, "/", relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<ProcessResult> RunSidecar(const std::vector<std::string>& flags, const Env& env) {
  std::vector<std::string> argv = {MOQSTATS_SIDECAR_BINARY};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return RunProcess(argv, env, ::testing::TempDir(), absl::Seconds(30));
}

std::string Describe(const Launch& launch, const std::vector<std::string>& extra) {
  std::vector<std::string> words;
  for (const auto& [name, value] : launch.env) words.push_back(absl::StrCat(name, "=", value));
  words.push_back("moq-stats-sidecar");
  words.insert(words.end(), launch.flags.begin(), launch.flags.end());
  words.insert(words.end(), extra.begin(), extra.end());
  return absl::StrCat(launch.where, ": env -i ", absl::StrJoin(words, " "));
}

// Runs `launch` plus --check-config; the settings it printed, or an error
// with the exit status and stderr.
absl::StatusOr<Settings> CheckConfig(const Launch& launch) {
  std::vector<std::string> flags = launch.flags;
  flags.push_back("--check-config");
  absl::StatusOr<ProcessResult> run = RunSidecar(flags, launch.env);
  if (!run.ok()) return run.status();
  if (run->exit_status != 0) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(launch, {"--check-config"}), "\nexited with status ",
                                                   run->exit_status, "; stderr: ", run->err));
  }
  Settings settings;
  bool ok_line = false;
  for (absl::string_view line : absl::StrSplit(run->out, '\n', absl::SkipEmpty())) {
    if (line == "configuration OK") {
      ok_line = true;
      continue;
    }
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    settings.insert(std::move(kv));
  }
  if (!ok_line || settings.empty()) {
    return absl::InternalError(absl::StrCat(Describe(launch, {"--check-config"}),
                                            "\nexited 0 without the expected report; stdout: ", run->out));
  }
  return settings;
}

// MOQ_STATS_* variable -> the flag (without dashes) it sets, from --help.
absl::StatusOr<std::map<std::string, std::string>> VariablesFromHelp() {
  absl::StatusOr<ProcessResult> run = RunSidecar({"--help"}, {});
  if (!run.ok()) return run.status();
  if (run->exit_status != 0) return absl::InternalError(absl::StrCat("--help exited ", run->exit_status));
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(run->out, '\n')) {
    absl::string_view t = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&t, "--")) continue;
    size_t env = t.find("(env ");
    if (env == absl::string_view::npos) continue;
    std::string flag(t.substr(0, t.find_first_of("=, (")));
    absl::string_view rest = t.substr(env + 5);
    std::string variable(rest.substr(0, rest.find_first_of(";)")));
    out[variable] = flag;
  }
  if (out.empty()) return absl::InternalError(absl::StrCat("found no \"(env ...)\" in --help:\n", run->out));
  return out;
}

// The flag names (without dashes) in `flags`.
std::set<std::string> FlagNames(const std::vector<std::string>& flags) {
  std::set<std::string> names;
  for (const std::string& f : flags) {
    absl::string_view body = f;
    if (!absl::ConsumePrefix(&body, "--")) continue;
    names.insert(std::string(body.substr(0, body.find('='))));
  }
  return names;
}

// The settings `launch` describes must not depend on its variables being
// read by accident: each variable is one the daemon knows (an unknown one is
// silently ignored by it), none is shadowed by a flag (the flag wins,
// silently), and the run with the variables gives exactly the settings of
// the run with the same values as flags.
void ExpectVariablesTakeEffect(const Launch& launch) {
  ASSERT_FALSE(launch.env.empty()) << launch.where << ": found no MOQ_STATS_* variable to check";
  absl::StatusOr<std::map<std::string, std::string>> known = VariablesFromHelp();
  ASSERT_TRUE(known.ok()) << known.status();
  std::set<std::string> given = FlagNames(launch.flags);
  std::vector<std::string> as_flags = launch.flags;
  for (const auto& [name, value] : launch.env) {
    auto it = known->find(name);
    ASSERT_NE(it, known->end()) << launch.where << ": " << name
                                << " is not a variable moq-stats-sidecar reads (see --help); it would be "
                                   "silently ignored";
    EXPECT_EQ(given.count(it->second), 0u)
        << launch.where << ": " << name << " is set, but --" << it->second
        << " is given as a flag too, and the flag wins: the variable has no effect";
    if (it->second == "listen") {  // the variable holds a comma-separated list
      for (absl::string_view address : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        as_flags.push_back(absl::StrCat("--listen=", absl::StripAsciiWhitespace(address)));
      }
    } else {
      as_flags.push_back(absl::StrCat("--", it->second, "=", value));
    }
  }
  absl::StatusOr<Settings> with_env = CheckConfig(launch);
  ASSERT_TRUE(with_env.ok()) << with_env.status();
  absl::StatusOr<Settings> with_flags = CheckConfig(Launch{launch.where + " (variables as flags)", as_flags, {}});
  ASSERT_TRUE(with_flags.ok()) << with_flags.status();
  EXPECT_EQ(*with_env, *with_flags) << launch.where << ": the variables did not all take effect";
}

// The daemon must refuse a flag it does not know, with status 2 and the flag
// named: otherwise passing --check-config above would prove nothing.
void ExpectBogusFlagRejected(const Launch& launch) {
  const std::string bogus = "--no-such-flag-from-deploy-test";
  std::vector<std::string> flags = launch.flags;
  flags.push_back(bogus + "=1");
  flags.push_back("--check-config");
  absl::StatusOr<ProcessResult> run = RunSidecar(flags, launch.env);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_status, 2) << Describe(launch, {bogus + "=1", "--check-config"}) << "\nstdout: " << run->out;
  EXPECT_THAT(run->err, HasSubstr(bogus));
}

// ---------------------------------------------------------------------------
// Reading the settings back.

absl::Duration ShutdownTimeout(const Settings& s) {
  absl::Duration d;
  auto it = s.find("shutdown-timeout");
  if (it == s.end() || !absl::ParseDuration(it->second, &d)) {
    ADD_FAILURE() << "--check-config printed no readable shutdown-timeout";
    return absl::InfiniteDuration();
  }
  return d;
}

std::vector<std::string> ListenAddresses(const Settings& s) {
  auto it = s.find("listen");
  if (it == s.end()) return {};
  return absl::StrSplit(it->second, ',', absl::SkipEmpty());
}

// "HOST:PORT" split at its last colon; host keeps IPv6 brackets.
std::pair<std::string, std::string> HostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return {address, ""};
  return {address.substr(0, colon), address.substr(colon + 1)};
}

std::vector<std::string> TcpListeners(const Settings& s) {
  std::vector<std::string> out;
  for (const std::string& a : ListenAddresses(s)) {
    if (!absl::StartsWith(a, "unix:")) out.push_back(a);
  }
  return out;
}

// The path of the one unix-socket listener; fails the test unless there is
// exactly one.
std::string UnixSocketPath(const Settings& s) {
  std::vector<std::string> paths;
  for (const std::string& a : ListenAddresses(s)) {
    if (absl::StartsWith(a, "unix:")) paths.push_back(a.substr(5));
  }
  if (paths.size() != 1) {
    ADD_FAILURE() << "expected one unix socket listener, got " << paths.size();
    return "";
  }
  return paths[0];
}

std::string Directory(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// Binds every interface, as a port the kubelet or a scraper reaches at the
// pod IP must.
bool IsWildcardHost(const std::string& host) { return host == "0.0.0.0" || host == "[::]"; }

// ---------------------------------------------------------------------------
// The Dockerfile.

absl::StatusOr<DockerfileFinalStage> LoadDockerfile() {
  absl::StatusOr<std::string> text = ReadSourceFile(kDockerfile);
  if (!text.ok()) return text.status();
  return ReadDockerfile(*text);
}

// The image run as is: ENTRYPOINT (its program replaced by the built binary)
// then CMD.
absl::StatusOr<Launch> DockerLaunch() {
  absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
  if (!stage.ok()) return stage.status();
  Launch launch{kDockerfile, {stage->entrypoint.begin() + 1, stage->entrypoint.end()}, {}};
  launch.flags.insert(launch.flags.end(), stage->cmd.begin(), stage->cmd.end());
  if (launch.flags.empty()) return absl::NotFoundError("the Dockerfile's ENTRYPOINT and CMD hold no flags");
  return launch;
}

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

// ---------------------------------------------------------------------------
// The systemd unit and its EnvironmentFile example.

struct SystemdSetup {
  std::vector<UnitSetting> unit;
  Launch launch;
};

// ExecStart's flags, with every variable of the EnvironmentFile example set
// (the commented-out examples too: each is meant to be uncommented).
absl::StatusOr<SystemdSetup> LoadSystemd() {
  absl::StatusOr<std::string> unit_text = ReadSourceFile(kUnitFile);
  if (!unit_text.ok()) return unit_text.status();
  absl::StatusOr<std::vector<UnitSetting>> unit = ReadSystemdUnit(*unit_text);
  if (!unit.ok()) return unit.status();
  std::vector<std::string> exec = UnitValues(*unit, "Service", "ExecStart");
  if (exec.size() != 1) return absl::NotFoundError(absl::StrCat("expected one ExecStart=, found ", exec.size()));
  absl::StatusOr<std::vector<std::string>> words = SplitExecStart(exec[0]);
  if (!words.ok()) return words.status();
  if (words->size() < 2) return absl::NotFoundError(absl::StrCat("ExecStart has no flags: ", exec[0]));
  if (words->front() != "/usr/local/bin/moq-stats-sidecar") {
    return absl::InvalidArgumentError(absl::StrCat("ExecStart runs ", words->front()));
  }

  std::vector<std::string> env_files = UnitValues(*unit, "Service", "EnvironmentFile");
  if (env_files != std::vector<std::string>{absl::StrCat("-", kEnvironmentFileInstalled)}) {
    return absl::InvalidArgumentError(absl::StrCat("expected EnvironmentFile=-", kEnvironmentFileInstalled,
                                                   ", found: ", absl::StrJoin(env_files, "; ")));
  }
  absl::StatusOr<std::string> env_text = ReadSourceFile(kEnvironmentExample);
  if (!env_text.ok()) return env_text.status();
  absl::StatusOr<std::vector<EnvAssignment>> assignments = ReadEnvironmentFile(*env_text);
  if (!assignments.ok()) return assignments.status();
  if (assignments->empty()) return absl::NotFoundError(absl::StrCat(kEnvironmentExample, " has no variables"));

  SystemdSetup setup;
  setup.unit = *std::move(unit);
  setup.launch.where = absl::StrCat(kUnitFile, " + ", kEnvironmentExample);
  setup.launch.flags.assign(words->begin() + 1, words->end());
  for (const EnvAssignment& a : *assignments) setup.launch.env.emplace_back(a.name, a.value);
  return setup;
}

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
  EXPECT_THAT(UnitValue(*setup, "Type"), testing::AnyOf("exec", "simple"));
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

// ---------------------------------------------------------------------------
// The Kubernetes manifest.

// Sample values for the downward-API fields the manifest may use; anything
// else cannot be checked here and fails.
absl::StatusOr<std::string> DownwardApiSample(const std::string& field_path) {
  static const std::map<std::string, std::string> kSamples = {
      {"metadata.name", "moq-relay-7c9d5b8f6-x2k4q"},
      {"metadata.namespace", "default"},
      {"spec.nodeName", "node-1"},
      {"status.podIP", "10.1.2.3"},
  };
  auto it = kSamples.find(field_path);
  if (it == kSamples.end()) return absl::UnimplementedError(absl::StrCat("no sample value for fieldRef ", field_path));
  return it->second;
}

struct Manifest {
  YamlNode workload;
  const YamlNode* pod_spec = nullptr;
  const YamlNode* pod_metadata = nullptr;
  const YamlNode* sidecar = nullptr;
  Launch launch;

  Manifest() = default;
  Manifest(const Manifest&) = delete;  // the pointers point into `workload`
  Manifest& operator=(const Manifest&) = delete;
};

// The manifest's one workload, its sidecar container and how it runs the
// daemon: the Dockerfile's ENTRYPOINT (unless the container has a command:)
// followed by the container's args, in the environment of its env.
absl::Status LoadManifest(Manifest* m) {
  absl::StatusOr<std::string> text = ReadSourceFile(kManifest);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<YamlNode>> docs = ReadYamlSubset(*text);
  if (!docs.ok()) return docs.status();
  int workloads = 0;
  for (YamlNode& doc : *docs) {
    const YamlNode* kind = doc.Get("kind");
    if (kind == nullptr || !kind->IsScalar()) continue;
    if (kind->scalar == "Pod" || kind->scalar == "Deployment" || kind->scalar == "StatefulSet" ||
        kind->scalar == "DaemonSet") {
      ++workloads;
      m->workload = std::move(doc);
    }
  }
  if (workloads != 1) return absl::NotFoundError(absl::StrCat("expected one workload in the manifest, found ", workloads));
  bool is_pod = m->workload.Get("kind")->scalar == "Pod";
  m->pod_spec = m->workload.At(is_pod ? "spec" : "spec.template.spec");
  m->pod_metadata = m->workload.At(is_pod ? "metadata" : "spec.template.metadata");
  if (m->pod_spec == nullptr || m->pod_metadata == nullptr) return absl::NotFoundError("no pod spec or pod metadata");

  const YamlNode* init = m->pod_spec->Get("initContainers");
  if (init == nullptr || init->kind != YamlNode::Kind::kSeq) return absl::NotFoundError("no initContainers list");
  for (const YamlNode& c : init->seq) {
    const YamlNode* name = c.Get("name");
    if (name != nullptr && name->scalar == kSidecarContainer) m->sidecar = &c;
  }
  if (m->sidecar == nullptr) return absl::NotFoundError(absl::StrCat("no init container named ", kSidecarContainer));

  m->launch.where = absl::StrCat(kManifest, " (container ", kSidecarContainer, ")");
  const YamlNode* command = m->sidecar->Get("command");
  const YamlNode* args = m->sidecar->Get("args");
  if (args == nullptr || args->kind != YamlNode::Kind::kSeq || args->seq.empty()) {
    return absl::NotFoundError("the sidecar container has no args list");
  }
  if (command != nullptr) {
    if (command->kind != YamlNode::Kind::kSeq || command->seq.empty()) return absl::InvalidArgumentError("bad command");
    for (size_t i = 1; i < command->seq.size(); ++i) m->launch.flags.push_back(command->seq[i].scalar);
  } else {
    absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
    if (!stage.ok()) return stage.status();
    m->launch.flags.assign(stage->entrypoint.begin() + 1, stage->entrypoint.end());
  }
  for (const YamlNode& a : args->seq) {
    if (!a.IsScalar()) return absl::InvalidArgumentError(absl::StrCat("args item on line ", a.line, " is no string"));
    m->launch.flags.push_back(a.scalar);
  }

  const YamlNode* env = m->sidecar->Get("env");
  if (env == nullptr || env->kind != YamlNode::Kind::kSeq || env->seq.empty()) {
    return absl::NotFoundError("the sidecar container has no env list");
  }
  for (const YamlNode& e : env->seq) {
    const YamlNode* name = e.Get("name");
    if (name == nullptr || !name->IsScalar()) return absl::InvalidArgumentError(absl::StrCat("env item on line ", e.line, " has no name"));
    if (const YamlNode* value = e.Get("value"); value != nullptr) {
      m->launch.env.emplace_back(name->scalar, value->scalar);
      continue;
    }
    const YamlNode* field = e.At("valueFrom.fieldRef.fieldPath");
    if (field == nullptr) {
      return absl::UnimplementedError(
          absl::StrCat("env ", name->scalar, " has neither value nor valueFrom.fieldRef; cannot check it"));
    }
    absl::StatusOr<std::string> sample = DownwardApiSample(field->scalar);
    if (!sample.ok()) return sample.status();
    m->launch.env.emplace_back(name->scalar, *sample);
  }
  return absl::OkStatus();
}

std::string Scalar(const YamlNode* parent, absl::string_view dotted_path) {
  const YamlNode* node = parent == nullptr ? nullptr : parent->At(dotted_path);
  if (node == nullptr || !node->IsScalar()) {
    ADD_FAILURE() << "no scalar at " << dotted_path;
    return "";
  }
  return node->scalar;
}

// The mount path of each volume a container mounts.
std::map<std::string, std::string> MountsOf(const YamlNode& container) {
  std::map<std::string, std::string> out;
  const YamlNode* mounts = container.Get("volumeMounts");
  if (mounts == nullptr) return out;
  for (const YamlNode& m : mounts->seq) out[Scalar(&m, "mountPath")] = Scalar(&m, "name");
  return out;
}

TEST(KubernetesManifestTest, SidecarArgsAndEnvPassCheckConfig) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
}

TEST(KubernetesManifestTest, EnvVariablesAreRealAndTakeEffect) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  ExpectVariablesTakeEffect(m.launch);
}

TEST(KubernetesManifestTest, GrpcProbesMatchAListenerThePodIpReaches) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();

  // The health service name the daemon registers is its gRPC service's full
  // name, from the proto.
  absl::StatusOr<std::string> proto = ReadSourceFile(kServiceProto);
  ASSERT_TRUE(proto.ok()) << proto.status();
  std::string package, service;
  for (absl::string_view line : absl::StrSplit(*proto, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "package ")) package = std::string(absl::StripSuffix(line, ";"));
    if (absl::ConsumePrefix(&line, "service ") && service.empty()) service = std::string(line.substr(0, line.find(' ')));
  }
  ASSERT_FALSE(package.empty() || service.empty()) << "no package or service in " << kServiceProto;
  const std::string service_name = absl::StrCat(package, ".", service);

  std::set<std::string> reachable_ports;  // what a probe of the pod IP can reach
  for (const std::string& address : TcpListeners(*settings)) {
    auto [host, port] = HostPort(address);
    if (IsWildcardHost(host)) reachable_ports.insert(port);
  }
  for (const char* probe : {"startupProbe", "readinessProbe"}) {
    SCOPED_TRACE(probe);
    const YamlNode* grpc = m.sidecar->At(absl::StrCat(probe, ".grpc"));
    ASSERT_NE(grpc, nullptr) << "the sidecar has no native gRPC " << probe;
    EXPECT_EQ(Scalar(grpc, "service"), service_name);
    EXPECT_THAT(reachable_ports, Contains(Scalar(grpc, "port")))
        << "the kubelet dials the pod IP; the sidecar listens on " << settings->at("listen");
  }
}

TEST(KubernetesManifestTest, LivenessAndScrapeMatchTheAdminListener) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  auto [host, port] = HostPort(settings->at("admin-listen"));
  EXPECT_TRUE(IsWildcardHost(host)) << "admin listener " << settings->at("admin-listen")
                                    << " is not reachable at the pod IP";
  EXPECT_EQ(Scalar(m.sidecar, "livenessProbe.httpGet.path"), "/healthz");
  EXPECT_EQ(Scalar(m.sidecar, "livenessProbe.httpGet.port"), port);
  const YamlNode* annotations = m.pod_metadata->Get("annotations");
  ASSERT_NE(annotations, nullptr) << "no pod annotations";
  // Annotation keys hold dots, so Get, not the dotted-path At.
  auto annotation = [annotations](absl::string_view key) {
    const YamlNode* value = annotations->Get(key);
    EXPECT_TRUE(value != nullptr && value->IsScalar()) << "no annotation " << key;
    return value == nullptr ? std::string() : value->scalar;
  };
  EXPECT_EQ(annotation("prometheus.io/scrape"), "true");
  EXPECT_EQ(annotation("prometheus.io/port"), port);
  EXPECT_EQ(annotation("prometheus.io/path"), "/metrics");
}

TEST(KubernetesManifestTest, GracePeriodExceedsShutdownTimeout) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  int64_t grace = 0;
  ASSERT_TRUE(absl::SimpleAtoi(Scalar(m.pod_spec, "terminationGracePeriodSeconds"), &grace));
  EXPECT_GT(absl::Seconds(grace), ShutdownTimeout(*settings))
      << "the kubelet would SIGKILL the sidecar before its --shutdown-timeout ran out";
}

TEST(KubernetesManifestTest, IsANativeSidecarSharingItsSocketDirectory) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(Scalar(m.sidecar, "restartPolicy"), "Always");

  // The socket's directory is an emptyDir mounted in the sidecar and in a
  // main container; the checkpoint's directory is a volume too (the root
  // file system is read-only).
  std::map<std::string, std::string> sidecar_mounts = MountsOf(*m.sidecar);
  const std::string socket_dir = Directory(UnixSocketPath(*settings));
  ASSERT_EQ(sidecar_mounts.count(socket_dir), 1u) << "the sidecar mounts no volume at " << socket_dir;
  const std::string socket_volume = sidecar_mounts[socket_dir];
  EXPECT_EQ(sidecar_mounts.count(Directory(settings->at("checkpoint-path"))), 1u)
      << "the sidecar mounts no volume for " << settings->at("checkpoint-path");
  bool shared = false;
  for (const YamlNode& c : m.pod_spec->Get("containers")->seq) {
    for (const auto& [path, volume] : MountsOf(c)) shared = shared || volume == socket_volume;
  }
  EXPECT_TRUE(shared) << "no main container mounts " << socket_volume;
  bool empty_dir = false;
  for (const YamlNode& v : m.pod_spec->Get("volumes")->seq) {
    if (Scalar(&v, "name") == socket_volume) empty_dir = v.Get("emptyDir") != nullptr;
  }
  EXPECT_TRUE(empty_dir) << socket_volume << " is not an emptyDir";

  EXPECT_EQ(Scalar(m.sidecar, "securityContext.readOnlyRootFilesystem"), "true");
  EXPECT_EQ(Scalar(m.sidecar, "securityContext.allowPrivilegeEscalation"), "false");
  const YamlNode* drop = m.sidecar->At("securityContext.capabilities.drop");
  ASSERT_NE(drop, nullptr);
  std::vector<std::string> dropped;
  for (const YamlNode& d : drop->seq) dropped.push_back(d.scalar);
  EXPECT_THAT(dropped, Contains("ALL"));
  EXPECT_EQ(Scalar(m.pod_spec, "securityContext.runAsNonRoot"), "true");
  EXPECT_NE(m.sidecar->At("resources.requests"), nullptr);
  EXPECT_NE(m.sidecar->At("resources.limits"), nullptr);
}

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
}  // namespace moqstats::deploy_test
