// Shared by the deploy_*_test.cc files: running the built moq-stats-sidecar
// on the way each deployment file under deploy/ starts it (flags and
// environment) with --check-config, reading its settings back, and loading
// each deployment file (Dockerfile, systemd unit, Kubernetes manifest).

#ifndef MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DEPLOY_CONFIG_TOOLS_H_
#define MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DEPLOY_CONFIG_TOOLS_H_

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

namespace moq_stats::deploy::test {

using Env = std::vector<std::pair<std::string, std::string>>;
// What --check-config printed: setting name (flag without dashes) -> value.
using Settings = std::map<std::string, std::string>;

inline constexpr char kDockerfile[] = "deploy/Dockerfile";
inline constexpr char kUnitFile[] = "deploy/systemd/moq-stats-sidecar.service";
inline constexpr char kEnvironmentExample[] = "deploy/systemd/moq-stats-sidecar.default";
inline constexpr char kSysusersFile[] = "deploy/systemd/moq-stats-sidecar.sysusers";
inline constexpr char kManifest[] = "deploy/kubernetes/relay-with-stats-sidecar.yaml";
inline constexpr char kServiceProto[] = "proto/moq/stats/v1/stats.proto";
inline constexpr char kSidecarContainer[] = "moq-stats-sidecar";
// Where the systemd unit expects its EnvironmentFile installed.
inline constexpr char kEnvironmentFileInstalled[] = "/etc/default/moq-stats-sidecar";

// ---------------------------------------------------------------------------
// Running the daemon.

// How one deployment starts the daemon: the arguments after the program
// name, and the environment it gets (nothing else is inherited).
struct Launch {
  std::string where;  // names the deployment in messages
  std::vector<std::string> flags;
  Env env;
};

inline absl::StatusOr<std::string> ReadSourceFile(const std::string& relative) {
  std::string path = absl::StrCat(MOQSTATS_SOURCE_DIR, "/", relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline absl::StatusOr<ProcessResult> RunSidecar(const std::vector<std::string>& flags, const Env& env) {
  std::vector<std::string> argv = {MOQSTATS_SIDECAR_BINARY};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return RunProcess(argv, env, ::testing::TempDir(), absl::Seconds(30));
}

inline std::string Describe(const Launch& launch, const std::vector<std::string>& extra) {
  std::vector<std::string> words;
  for (const auto& [name, value] : launch.env) words.push_back(absl::StrCat(name, "=", value));
  words.push_back("moq-stats-sidecar");
  words.insert(words.end(), launch.flags.begin(), launch.flags.end());
  words.insert(words.end(), extra.begin(), extra.end());
  return absl::StrCat(launch.where, ": env -i ", absl::StrJoin(words, " "));
}

// Runs `launch` plus --check-config; the settings it printed, or an error
// with the exit status and stderr.
inline absl::StatusOr<Settings> CheckConfig(const Launch& launch) {
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
inline absl::StatusOr<std::map<std::string, std::string>> VariablesFromHelp() {
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
inline std::set<std::string> FlagNames(const std::vector<std::string>& flags) {
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
inline void ExpectVariablesTakeEffect(const Launch& launch) {
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
    EXPECT_EQ(given.count(it->second), 0u) << launch.where << ": " << name << " is set, but --" << it->second
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
inline void ExpectBogusFlagRejected(const Launch& launch) {
  const std::string bogus = "--no-such-flag-from-deploy-test";
  std::vector<std::string> flags = launch.flags;
  flags.push_back(bogus + "=1");
  flags.push_back("--check-config");
  absl::StatusOr<ProcessResult> run = RunSidecar(flags, launch.env);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_status, 2) << Describe(launch, {bogus + "=1", "--check-config"}) << "\nstdout: " << run->out;
  EXPECT_THAT(run->err, ::testing::HasSubstr(bogus));
}

// ---------------------------------------------------------------------------
// Reading the settings back.

inline absl::Duration ShutdownTimeout(const Settings& s) {
  absl::Duration d;
  auto it = s.find("shutdown-timeout");
  if (it == s.end() || !absl::ParseDuration(it->second, &d)) {
    ADD_FAILURE() << "--check-config printed no readable shutdown-timeout";
    return absl::InfiniteDuration();
  }
  return d;
}

inline std::vector<std::string> ListenAddresses(const Settings& s) {
  auto it = s.find("listen");
  if (it == s.end()) return {};
  return absl::StrSplit(it->second, ',', absl::SkipEmpty());
}

// "HOST:PORT" split at its last colon; host keeps IPv6 brackets.
inline std::pair<std::string, std::string> HostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return {address, ""};
  return {address.substr(0, colon), address.substr(colon + 1)};
}

inline std::vector<std::string> TcpListeners(const Settings& s) {
  std::vector<std::string> out;
  for (const std::string& a : ListenAddresses(s)) {
    if (!absl::StartsWith(a, "unix:")) out.push_back(a);
  }
  return out;
}

// The path of the one unix-socket listener; fails the test unless there is
// exactly one.
inline std::string UnixSocketPath(const Settings& s) {
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

inline std::string Directory(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// Binds every interface, as a port the kubelet or a scraper reaches at the
// pod IP must.
inline bool IsWildcardHost(const std::string& host) { return host == "0.0.0.0" || host == "[::]"; }

// ---------------------------------------------------------------------------
// The Dockerfile.

inline absl::StatusOr<DockerfileFinalStage> LoadDockerfile() {
  absl::StatusOr<std::string> text = ReadSourceFile(kDockerfile);
  if (!text.ok()) return text.status();
  return ReadDockerfile(*text);
}

// The image run as is: ENTRYPOINT (its program replaced by the built binary)
// then CMD.
inline absl::StatusOr<Launch> DockerLaunch() {
  absl::StatusOr<DockerfileFinalStage> stage = LoadDockerfile();
  if (!stage.ok()) return stage.status();
  Launch launch{kDockerfile, {stage->entrypoint.begin() + 1, stage->entrypoint.end()}, {}};
  launch.flags.insert(launch.flags.end(), stage->cmd.begin(), stage->cmd.end());
  if (launch.flags.empty()) return absl::NotFoundError("the Dockerfile's ENTRYPOINT and CMD hold no flags");
  return launch;
}

// ---------------------------------------------------------------------------
// The systemd unit and its EnvironmentFile example.

struct SystemdSetup {
  std::vector<UnitSetting> unit;
  Launch launch;
};

// ExecStart's flags, with every variable of the EnvironmentFile example set
// (the commented-out examples too: each is meant to be uncommented).
inline absl::StatusOr<SystemdSetup> LoadSystemd() {
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

// ---------------------------------------------------------------------------
// The Kubernetes manifest.

// Sample values for the downward-API fields the manifest may use; anything
// else cannot be checked here and fails.
inline absl::StatusOr<std::string> DownwardApiSample(const std::string& field_path) {
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
inline absl::Status LoadManifest(Manifest* m) {
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
  if (workloads != 1)
    return absl::NotFoundError(absl::StrCat("expected one workload in the manifest, found ", workloads));
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
    if (name == nullptr || !name->IsScalar())
      return absl::InvalidArgumentError(absl::StrCat("env item on line ", e.line, " has no name"));
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

}  // namespace moq_stats::deploy::test

#endif  // MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DEPLOY_CONFIG_TOOLS_H_
