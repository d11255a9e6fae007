#include "tests/integration/test_tools/daemon_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"

extern char** environ;

namespace moq_stats {
namespace integration {
namespace {

// How often a wait for the child's exit looks again.
constexpr absl::Duration kReapPoll = absl::Milliseconds(5);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// argv and envp for execve, built before fork: the child of a threaded
// process may only make async-signal-safe calls.
struct ExecImage {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;

  explicit ExecImage(const std::vector<std::string>& args) {
    argv_storage.push_back(SidecarBinary());
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    for (char** e = environ; e && *e; ++e) {
      // The daemon takes every flag from a MOQ_STATS_* variable too; the
      // tests say everything on the command line.
      if (!absl::StartsWith(*e, "MOQ_STATS_")) env_storage.push_back(*e);
    }
    for (std::string& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// Forks and execs the daemon in `dir`, stdout and stderr to the files given
// (opened by the parent, so the child only dup2s). Returns the pid.
pid_t Spawn(const ExecImage& image, const std::string& dir, int out_fd, int err_fd) {
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: async-signal-safe calls only.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);  // the test died before prctl
  // The test's thread may have signals blocked; the daemon expects defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (chdir(dir.c_str()) != 0) _exit(125);
  if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) _exit(124);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  execve(image.argv[0], image.argv.data(), image.envp.data());
  _exit(127);
}

// Waits for `pid` to exit for at most `timeout`: its exit code, or nullopt.
std::optional<int> WaitPid(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCode(status);
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(kReapPoll);
  }
}

}  // namespace

const char* SidecarBinary() { return MOQSTATS_SIDECAR_BINARY; }

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/moq-it-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int PickFreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

CommandResult RunSidecarCommand(const std::vector<std::string>& args, const std::string& dir, absl::Duration timeout) {
  CommandResult result;
  const std::string out_path = dir + "/command.out";
  const std::string err_path = dir + "/command.err";
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "cannot create the output files in " << dir;
    return result;
  }
  ExecImage image(args);
  pid_t pid = Spawn(image, dir, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return result;
  }
  std::optional<int> code = WaitPid(pid, timeout);
  if (!code) {
    kill(pid, SIGKILL);
    WaitPid(pid, absl::Seconds(5));
  }
  result.exit_code = code.value_or(-1);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

std::shared_ptr<grpc::Channel> NewTestChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::string Describe(const grpc::Status& status) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  std::string name = code >= 0 && code < 17 ? kNames[code] : absl::StrCat("code ", code);
  return absl::StrCat(name, ": \"", status.error_message(), "\"");
}

DaemonProcess::DaemonProcess(std::vector<std::string> extra_args)
    : socket_path_(dir_.path() + "/s.sock"),
      target_("unix:" + socket_path_),
      log_path_(dir_.path() + "/daemon.log"),
      admin_port_(PickFreeLoopbackPort()) {
  args_ = {"--listen", "unix:" + socket_path_, "--admin-listen", absl::StrCat("127.0.0.1:", admin_port_),
           "--grace=300ms", "--stats-interval=100ms", "--checkpoint-interval=100ms",
           // An idle client connection holds a graceful shutdown for the
           // whole timeout (gRPC waits for connections to close).
           "--shutdown-timeout=1s",
           // Daemons of tests running side by side would all want the
           // default MoQ port; a test passes its own --moq-listen to serve.
           "--moq-listen=off", "--log-level=debug"};
  args_.insert(args_.end(), extra_args.begin(), extra_args.end());
}

DaemonProcess::~DaemonProcess() {
  if (running()) Kill();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- moq-stats-sidecar log (" << log_path_ << ", " << starts_ << " start(s)) ----\n"
              << Log() << "---- end of log ----\n";
  }
}

void DaemonProcess::ListenOnTcp(int port) {
  target_ = absl::StrCat("127.0.0.1:", port);
  args_[1] = target_;  // the value of the first --listen
}

::testing::AssertionResult DaemonProcess::Start() {
  if (running()) return ::testing::AssertionFailure() << "the daemon is already running (pid " << pid_ << ")";
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ::testing::AssertionFailure() << "cannot open " << log_path_ << ": " << std::strerror(errno);
  ++starts_;
  std::string banner =
      absl::StrCat("==== start ", starts_, ": ", SidecarBinary(), " ", absl::StrJoin(args_, " "), "\n");
  if (write(log_fd, banner.data(), banner.size()) < 0) {
    // The banner only helps reading the log.
  }
  ExecImage image(args_);
  pid_ = Spawn(image, dir_.path(), log_fd, log_fd);
  close(log_fd);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  channel_ = NewTestChannel(target());
  return WaitServing(absl::Seconds(10));
}

::testing::AssertionResult DaemonProcess::WaitServing(absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  const absl::Time deadline = absl::Now() + timeout;
  grpc::Status last;
  std::string last_state = "no answer";
  for (;;) {
    if (std::optional<int> code = Reap(false)) {
      return ::testing::AssertionFailure() << "the daemon exited with status " << *code << " before serving";
    }
    grpc::ClientContext context;
    // Waits for the socket to appear and the connection to come up, a short
    // while per try so that an exit is noticed.
    context.set_wait_for_ready(true);
    context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Milliseconds(250))));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    last = health->Check(&context, request, &response);
    if (last.ok()) {
      if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        return ::testing::AssertionSuccess();
      }
      last_state = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
    } else {
      last_state = Describe(last);
    }
    if (absl::Now() >= deadline) {
      return ::testing::AssertionFailure()
             << "the daemon was not SERVING within " << timeout << "; last health answer: " << last_state;
    }
  }
}

std::optional<int> DaemonProcess::Reap(bool block) {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    pid_ = -1;
    return ExitCode(status);
  }
  if (r < 0) {
    pid_ = -1;
    return -1;
  }
  return std::nullopt;
}

void DaemonProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::optional<int> DaemonProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return std::nullopt;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (std::optional<int> code = Reap(false)) return code;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(kReapPoll);
  }
}

int DaemonProcess::Terminate(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  Signal(SIGTERM);
  if (std::optional<int> code = Wait(timeout)) return *code;
  Kill();
  return -1;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(true);
}

std::string DaemonProcess::Log() const { return ReadFile(log_path_); }

}  // namespace integration
}  // namespace moq_stats
