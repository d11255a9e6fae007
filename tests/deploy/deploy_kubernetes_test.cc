// Checks deploy/kubernetes/ against the real daemon: the sidecar container's
// command, args and env are run through the built moq-stats-sidecar with
// --check-config, and the probes, scrape annotations, grace period and
// volumes are compared with what the daemon reports. The helpers are in
// test_tools/deploy_config_tools.h.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/test_tools/deploy_config_tools.h"

namespace moq_stats::deploy::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

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
    if (absl::ConsumePrefix(&line, "service ") && service.empty())
      service = std::string(line.substr(0, line.find(' ')));
  }
  ASSERT_FALSE(package.empty() || service.empty()) << "no package or service in " << kServiceProto;
  const std::string service_name = absl::StrCat(package, ".", service);

  std::set<std::string> reachable_ports;  // what a probe of the pod IP can reach
  for (const std::string& address : TcpListeners(*settings)) {
    auto [host, port] = HostPort(address);
    if (IsWildcardHost(host)) reachable_ports.insert(port);
  }
  for (const char* probe : {"startupProbe"}) {
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
  // Readiness is the admin listener's /readyz (unready at SIGTERM).
  EXPECT_EQ(Scalar(m.sidecar, "readinessProbe.httpGet.path"), "/readyz");
  EXPECT_EQ(Scalar(m.sidecar, "readinessProbe.httpGet.port"), port);
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

}  // namespace
TEST(KubernetesManifestTest, TheListenerBeyondThePodNeedsATokenFromASecret) {
  Manifest m;
  absl::Status loaded = LoadManifest(&m);
  ASSERT_TRUE(loaded.ok()) << loaded;
  absl::StatusOr<Settings> settings = CheckConfig(m.launch);
  ASSERT_TRUE(settings.ok()) << settings.status();
  // --check-config's line for the pod-IP listener.
  bool token_needed = false;
  for (const auto& [line, value] : *settings) {
    if (absl::StartsWith(line, "listener 0.0.0.0:")) {
      EXPECT_THAT(line, HasSubstr("accepts: bearer token; reads need it too")) << line;
      token_needed = absl::StrContains(line, "bearer token");
    }
  }
  EXPECT_TRUE(token_needed) << "no TCP listener on 0.0.0.0 that needs a token";
  const std::string token_file = settings->at("auth-token-file");
  ASSERT_FALSE(token_file.empty());
  // The token file is in a volume mounted from a Secret.
  std::string secret_volume;
  for (const auto& [path, volume] : MountsOf(*m.sidecar)) {
    if (absl::StartsWith(token_file, path + "/")) secret_volume = volume;
  }
  ASSERT_FALSE(secret_volume.empty()) << token_file << " is in no volume of the sidecar";
  bool from_secret = false;
  for (const YamlNode& v : m.pod_spec->Get("volumes")->seq) {
    if (Scalar(&v, "name") == secret_volume) from_secret = v.Get("secret") != nullptr;
  }
  EXPECT_TRUE(from_secret) << "volume " << secret_volume << " is not a Secret";
}

}  // namespace moq_stats::deploy::test
