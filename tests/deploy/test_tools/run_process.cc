#include "tests/deploy/test_tools/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moq_stats::deploy::test {
namespace {

// Owns one file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;  // one owner closes it
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A pipe whose two ends close with it; both ends are O_CLOEXEC.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::Status OpenPipe(Pipe* p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  p->read = UniqueFd(fds[0]);
  p->write = UniqueFd(fds[1]);
  return absl::OkStatus();
}

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const std::vector<std::pair<std::string, std::string>>& env,
                                         const std::string& working_directory, absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argv");
  // Everything the child needs is built before fork(): after it, only
  // async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const std::string& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  Pipe out, err;
  // Stays open in the child until exec succeeds (O_CLOEXEC closes it then);
  // a failed exec writes its errno there.
  Pipe exec_report;
  for (Pipe* p : {&out, &err, &exec_report}) {
    if (absl::Status s = OpenPipe(p); !s.ok()) return s;
  }

  pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    int error = 0;
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out.write.get(), 1) < 0 || ::dup2(err.write.get(), 2) < 0 ||
        ::chdir(working_directory.c_str()) != 0) {
      error = errno;
    } else {
      ::execve(c_argv[0], c_argv.data(), c_env.data());
      error = errno;
    }
    ssize_t ignored = ::write(exec_report.write.get(), &error, sizeof(error));
    (void)ignored;
    ::_exit(127);
  }
  out.write.Reset();
  err.write.Reset();
  exec_report.write.Reset();

  ProcessResult result;
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(exec_report.read.get(), &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  bool exec_failed = got == static_cast<ssize_t>(sizeof(child_errno));

  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  UniqueFd* sources[2] = {&out.read, &err.read};
  std::string* sinks[2] = {&result.out, &result.err};
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd polls[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    int ready = ::poll(polls, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      absl::Status error = Errno("poll");
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return error;
    }
    for (int k = 0; k < 2; ++k) {
      if (polls[k].fd < 0 || polls[k].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::read(polls[k].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[k]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        sources[k]->Reset();
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Errno("waitpid");
  }
  if (exec_failed) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], " in ", working_directory, ": ", std::strerror(child_errno)));
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat("still running after ", absl::FormatDuration(timeout),
                                                    ", killed: ", absl::StrJoin(argv, " "), "\nstderr: ", result.err));
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace moq_stats::deploy::test
