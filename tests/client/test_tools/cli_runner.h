// Shared by the cli_*_test.cc files: the real moq-stats binary run as a
// subprocess (CliProcess, RunCli), readers of its text and --json output, and
// CliTest, a fixture running it against a real moq-stats-sidecar daemon.

#ifndef MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLI_RUNNER_H_
#define MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLI_RUNNER_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"

extern char** environ;

#ifndef MOQSTATS_CLI_BINARY
#error "MOQSTATS_CLI_BINARY must name the built moq-stats"
#endif

namespace moq_stats::cli::test {

using ::moq_stats::integration::DaemonProcess;
using ::moq_stats::integration::TempDir;
namespace pb = ::moq::stats::v1;

inline constexpr absl::Duration kRunTimeout = absl::Seconds(30);
inline constexpr absl::Duration kWait = absl::Seconds(10);

inline const char* CliBinary() { return MOQSTATS_CLI_BINARY; }

// ---------------------------------------------------------------------------
// Running the binary.

// The moq-stats binary as a child process, its stdout and stderr on pipes
// read by the test. The environment is the test's without MOQ_STATS_*
// variables, plus `extra_env` ("NAME=value"). Killed (SIGKILL) if still
// running when this goes, and when the test process dies. Use from one
// thread.
class CliProcess {
 public:
  explicit CliProcess(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                      const std::string& dir = "") {
    // Everything execve needs is built before fork: the child of a threaded
    // process may only make async-signal-safe calls.
    std::vector<std::string> argv_storage = {CliBinary()};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<std::string> env_storage;
    for (char** e = environ; e && *e; ++e) {
      if (!absl::StartsWith(*e, "MOQ_STATS_")) env_storage.push_back(*e);
    }
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> argv, envp;
    for (std::string& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    command_ = absl::StrJoin(args, " ");

    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe: " << std::strerror(errno);
      return;
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(125);
      if (dup2(out_pipe[1], STDOUT_FILENO) < 0 || dup2(err_pipe[1], STDERR_FILENO) < 0) _exit(124);
      int null_fd = open("/dev/null", O_RDONLY);
      if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  }

  ~CliProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  // Reads stdout until `done(stdout so far)` holds, stdout closes or
  // `timeout` passes; whether `done` held.
  bool ReadUntil(const std::function<bool(const std::string&)>& done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      if (done(out_)) return true;
      const absl::Time now = absl::Now();
      if (now >= deadline || out_fd_ < 0) return false;
      Pump(deadline - now);
    }
  }

  void Signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }

  // Waits for the exit, reading the rest of the output: the exit status
  // (128 + signal when killed by one), or -1 when it did not end within
  // `timeout` (it is then killed).
  int Wait(absl::Duration timeout = kRunTimeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && absl::Now() < deadline) Pump(deadline - absl::Now());
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
      }
      if ((r < 0 && errno != EINTR) || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(5));  // the pipes are closed: the exit is imminent
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return -1;
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  // For failure messages.
  std::string Describe() const {
    return absl::StrCat("moq-stats ", command_, "\n--- stdout ---\n", out_, "--- stderr ---\n", err_, "---");
  }

 private:
  // Waits up to `wait` for output and appends what came.
  void Pump(absl::Duration wait) {
    pollfd fds[2];
    int* owners[2];
    std::string* sinks[2];
    nfds_t n = 0;
    if (out_fd_ >= 0) {
      fds[n] = {out_fd_, POLLIN, 0};
      owners[n] = &out_fd_;
      sinks[n++] = &out_;
    }
    if (err_fd_ >= 0) {
      fds[n] = {err_fd_, POLLIN, 0};
      owners[n] = &err_fd_;
      sinks[n++] = &err_;
    }
    if (n == 0) return;
    const int ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(wait)));
    if (poll(fds, n, ms) <= 0) return;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = read(fds[i].fd, buffer, sizeof(buffer));
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        *owners[i] = -1;
      }
    }
  }

  std::string command_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string description;  // for failure messages
};

// Runs moq-stats with `args` to completion.
inline RunResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                        const std::string& dir = "") {
  CliProcess process(args, extra_env, dir);
  RunResult result;
  result.exit_code = process.Wait();
  result.out = process.out();
  result.err = process.err();
  result.description = absl::StrCat(process.Describe(), "\nexit status ", result.exit_code);
  return result;
}

// ---------------------------------------------------------------------------
// Reading the output.

// `text` parsed as JSON by protobuf's JSON parser (a real one, independent
// of the CLI's writer); nullopt when it is not valid JSON.
inline std::optional<google::protobuf::Value> ParseJson(const std::string& text) {
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(text, &value).ok()) return std::nullopt;
  return value;
}

inline std::vector<std::string> Lines(const std::string& text) { return absl::StrSplit(text, '\n', absl::SkipEmpty()); }

inline std::vector<std::string> Words(const std::string& line) { return absl::StrSplit(line, ' ', absl::SkipEmpty()); }

// The seven counters, in the CLI's column order (broadcasts,
// broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames,
// groups), all zero.
inline const std::vector<uint64_t> kZeros(7, 0);

inline std::vector<uint64_t> CountsOf(const pb::Snapshot& s) {
  return {s.broadcasts(), s.broadcasts_closed(), s.subscriptions(), s.subscriptions_closed(), s.bytes(), s.frames(),
          s.groups()};
}

// The counters of a JSON snapshot object, as integers; empty when a member
// is missing or not a whole number.
inline std::vector<uint64_t> CountsOf(const google::protobuf::Value& snapshot) {
  static const char* const kNames[] = {
      "broadcasts", "broadcasts_closed", "subscriptions", "subscriptions_closed", "bytes", "frames", "groups"};
  std::vector<uint64_t> out;
  if (!snapshot.has_struct_value()) return {};
  const auto& fields = snapshot.struct_value().fields();
  for (const char* name : kNames) {
    auto it = fields.find(name);
    if (it == fields.end() || it->second.kind_case() != google::protobuf::Value::kNumberValue) return {};
    out.push_back(static_cast<uint64_t>(it->second.number_value()));
  }
  return out;
}

// The numbers after the first `skip` words of `words`.
inline std::vector<uint64_t> NumbersAfter(const std::vector<std::string>& words, size_t skip) {
  std::vector<uint64_t> out;
  for (size_t i = skip; i < words.size(); ++i) out.push_back(std::stoull(words[i]));
  return out;
}

// `get`'s text: the counters on the row of (tier, role).
inline std::optional<std::vector<uint64_t>> GetRow(const std::string& out, const std::string& tier,
                                                   const std::string& role) {
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    if (w.size() == 9 && w[0] == tier && w[1] == role) return NumbersAfter(w, 2);
  }
  return std::nullopt;
}

// `levels`' text: the words of the row of (key as shown, tier, role).
inline std::optional<std::vector<std::string>> LevelsRow(const std::string& out, const std::string& key,
                                                         const std::string& tier, const std::string& role) {
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    if (w.size() == 13 && w[0] == key && w[4] == tier && w[5] == role) return w;
  }
  return std::nullopt;
}

inline const google::protobuf::Value* Member(const google::protobuf::Value& object, const std::string& name) {
  if (!object.has_struct_value()) return nullptr;
  auto it = object.struct_value().fields().find(name);
  return it == object.struct_value().fields().end() ? nullptr : &it->second;
}

inline std::string StringMember(const google::protobuf::Value& object, const std::string& name) {
  const google::protobuf::Value* v = Member(object, name);
  return v && v->kind_case() == google::protobuf::Value::kStringValue ? v->string_value() : "<missing>";
}

// ---------------------------------------------------------------------------

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }

  // moq-stats --target=<the daemon> args...
  RunResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), "--target=" + daemon_.target());
    return RunCli(args);
  }

  // The level straight from the daemon, not through the CLI.
  grpc::Status FindLevel(const std::string& key, pb::Level* level) {
    auto stub = daemon_.NewStub();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    pb::GetLevelRequest request;
    request.set_key(key);
    pb::GetLevelResponse response;
    grpc::Status status = stub->GetLevel(&context, request, &response);
    *level = response.level();
    return status;
  }
  pb::Level GetLevelDirect(const std::string& key) {
    pb::Level level;
    EXPECT_GRPC_OK(FindLevel(key, &level));
    return level;
  }

  DaemonProcess daemon_;
};

}  // namespace moq_stats::cli::test

#endif  // MOQ_STATS_TESTS_CLIENT_TEST_TOOLS_CLI_RUNNER_H_
