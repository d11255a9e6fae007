// moq-stats-sidecar: aggregates the traffic counters that MoQ relays stream
// to it over gRPC and publishes them as MoQ broadcasts. See --help.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "server/auth/listener_security.h"
#include "server/file_limit.h"
#include "server/sd_notify.h"
#include "server/sessions/checkpoint_path.h"
#include "server/sidecar.h"
#include "server/sidecar_config.h"

#ifndef MOQSTATS_VERSION
#define MOQSTATS_VERSION "unknown"
#endif

namespace moq_stats::server {
namespace {

constexpr int kExitUsage = 2;

// Sends `state` to systemd when it asked for notifications; a failure is
// logged, never fatal.
void Notify(const char* socket, const std::string& state) {
  if (absl::Status s = SendSdNotify(socket == nullptr ? "" : socket, state); !s.ok()) {
    MOQSTATS_LOG(WARNING) << "cannot notify systemd: " << s.message();
  }
}

// --listen-mode as --check-config shows it.
std::string ListenModeText(const SidecarConfig& config) {
  for (const auto& [name, value] : DescribeSidecarConfig(config)) {
    if (name == "listen-mode") return value;
  }
  return "";
}

// LoadListenerSecurity over the credential files that exist here; a
// missing one is warned about on stderr.
absl::Status CheckCredentialFiles(AuthConfig auth) {
  for (auto [flag, path] : {std::pair<const char*, std::string*>{"--auth-token-file", &auth.token_file},
                            {"--tls-cert", &auth.tls_cert},
                            {"--tls-key", &auth.tls_key},
                            {"--tls-client-ca", &auth.tls_client_ca}}) {
    if (path->empty() || access(path->c_str(), F_OK) == 0) continue;
    std::fprintf(stderr,
                 "moq-stats-sidecar: warning: %s %s does not exist here; the daemon will not start without it\n", flag,
                 path->c_str());
    path->clear();
  }
  if (auth.tls_cert.empty() || auth.tls_key.empty()) {
    auth.tls_cert.clear();
    auth.tls_key.clear();
    auth.tls_client_ca.clear();
  }
  return LoadListenerSecurity(auth).status();
}

absl::Status CheckCheckpointPath(const std::string& path) {
  if (path.empty()) return absl::OkStatus();  // checkpoints off
  return ResolveCheckpointPath(path).status();
}

int Main(int argc, char** argv) {
  // Debian's Abseil is a debug build whose Mutex deadlock detector costs
  // more with every live mutex; tests keep it on, programs turn it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::vector<std::string> args(argv, argv + argc);  // argv[0] included, as ParseSidecarFlags takes it
  absl::StatusOr<ParsedSidecarFlags> parsed =
      ParseSidecarFlags(args, [](const char* name) { return std::getenv(name); });
  if (!parsed.ok()) {
    std::fprintf(stderr, "moq-stats-sidecar: %s\n", std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  if (parsed->command == SidecarCommand::kHelp) {
    std::fputs(SidecarUsage().c_str(), stdout);
    return 0;
  }
  if (parsed->command == SidecarCommand::kVersion) {
    std::printf("moq-stats-sidecar %s\n", MOQSTATS_VERSION);
    return 0;
  }
  const SidecarConfig& config = parsed->config;
  std::vector<std::string> env_names;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    env_names.push_back(entry.substr(0, entry.find('=')));
  }
  for (const std::string& name : UnknownSidecarEnv(env_names)) {
    MOQSTATS_LOG(WARNING) << "ignoring " << name << ": no setting reads it (see --help for the MOQ_STATS_* names)";
  }
  // A checkpoint path that names a FIFO, a device or a directory is a bad
  // value like any other (the sidecar would never read or write it).
  if (absl::Status s = CheckCheckpointPath(config.checkpoint_path); !s.ok()) {
    std::fprintf(stderr, "moq-stats-sidecar: --checkpoint-path: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  if (config.check_config) {
    // The token and TLS files are read as at start, so a bad one shows here;
    // one that does not exist on this machine (a manifest checked elsewhere,
    // a Secret mounted only at run time) is only warned about.
    if (absl::Status s = CheckCredentialFiles(config.auth); !s.ok()) {
      std::fprintf(stderr, "moq-stats-sidecar: %s\n", std::string(s.message()).c_str());
      return kExitUsage;
    }
    for (const auto& [name, value] : DescribeSidecarConfig(config)) std::printf("%s=%s\n", name.c_str(), value.c_str());
    for (const auto& [address, access] : DescribeListenerAccess(config.auth, config.listen, ListenModeText(config))) {
      std::printf("listener %s accepts: %s\n", address.c_str(), access.c_str());
    }
    std::printf("configuration OK\n");
    return 0;
  }

  // SIGTERM and SIGINT are taken by sigwait below, on this thread; every
  // thread started after this inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Every connection a listener accepts costs a descriptor: use all the
  // system grants before the listeners open.
  absl::StatusOr<FileLimit> file_limit = RaiseFileLimit();
  if (file_limit.ok()) {
    MOQSTATS_LOG(INFO) << file_limit->Describe();
  } else {
    MOQSTATS_LOG(WARNING) << file_limit.status().message();
  }

  absl::StatusOr<std::unique_ptr<Sidecar>> sidecar = Sidecar::Start(config);
  if (!sidecar.ok()) {
    MOQSTATS_LOG(ERROR) << "cannot start: " << sidecar.status().message();
    return 1;
  }
  std::string admin = (*sidecar)->admin_port()
                          ? " admin http://" + config.admin_listen.substr(0, config.admin_listen.rfind(':') + 1) +
                                std::to_string((*sidecar)->admin_port())
                          : "";
  std::string moq;
  if (std::optional<bridge::BridgeStatus> bridge = (*sidecar)->BridgeStatus()) {
    if (bridge->serve.enabled && !bridge->serve.listen.empty()) moq += " moq ws://" + bridge->serve.listen + "/";
    if (bridge->dial.enabled) moq += " publishing into " + bridge->dial.url;
  }
  MOQSTATS_LOG(INFO) << "moq-stats-sidecar " << MOQSTATS_VERSION << " listening on "
                     << absl::StrJoin((*sidecar)->listening(), ", ") << admin << moq << "; stats prefix \""
                     << config.stats.prefix << "\" levels " << config.stats.levels;

  const char* notify_socket = std::getenv("NOTIFY_SOCKET");
  Notify(notify_socket, absl::StrCat("READY=1\nSTATUS=listening on ", absl::StrJoin((*sidecar)->listening(), ", "),
                                     "\nMAINPID=", getpid()));

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  MOQSTATS_LOG(INFO) << "received " << strsignal(signal_number);
  // Unready first, while everything still serves.
  (*sidecar)->StopBeingReady();
  Notify(notify_socket, "STOPPING=1\nSTATUS=draining");
  if (config.shutdown_delay > absl::ZeroDuration()) {
    MOQSTATS_LOG(INFO) << "unready; draining in " << absl::FormatDuration(config.shutdown_delay)
                       << " (or at the next signal)";
    const timespec delay = absl::ToTimespec(config.shutdown_delay);
    if (sigtimedwait(&signals, nullptr, &delay) > 0) MOQSTATS_LOG(INFO) << "second signal: draining now";
  }
  (*sidecar)->Shutdown();
  // Everything that must outlive the process is done: the final checkpoint
  // is on disk and the socket removed. Tearing gRPC down as well can stall
  // for seconds joining its internal threads, so leave now.
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace
}  // namespace moq_stats::server

int main(int argc, char** argv) { return moq_stats::server::Main(argc, argv); }
