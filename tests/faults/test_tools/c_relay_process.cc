#include "tests/faults/test_tools/c_relay_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

const char* CRelayBinary() { return MOQSTATS_FAULT_C_RELAY; }

// Reads `fd` until its end or `deadline`.
std::string ReadAll(int fd, absl::Time deadline) {
  std::string out;
  char buf[4096];
  while (absl::Now() < deadline) {
    struct pollfd p = {fd, POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1;
    if (poll(&p, 1, ms) <= 0) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

CRelayProcess::CRelayProcess(const std::string& target, const std::string& segment, uint64_t seed,
                             const std::string& session_id) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return;
  }
  static int serial = 0;
  stderr_path_ = absl::StrCat(P_tmpdir, "/fault_c_relay.", getpid(), ".", ++serial, ".err");
  // argv built before fork: the child of a threaded process may not allocate.
  std::vector<std::string> args = {CRelayBinary(), target, segment, absl::StrCat(seed)};
  if (!session_id.empty()) args.push_back(session_id);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int err_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (err_fd >= 0) close(err_fd);
  close(in[0]);
  close(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
}

CRelayProcess::~CRelayProcess() {
  Kill();
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

void CRelayProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

CRelayProcess::Result CRelayProcess::Stop(absl::Duration timeout) {
  Result result;
  if (pid_ <= 0) return result;
  const absl::Time deadline = absl::Now() + timeout;
  if (write(stdin_fd_, "stop\n", 5) != 5) std::perror("write to fault_c_relay");
  result.output = ReadAll(stdout_fd_, deadline);
  // It printed its ledger last; wait for its exit (bounded) or kill it.
  int status = 0;
  bool exited = false;
  while (absl::Now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (!exited) Kill();
  pid_ = -1;
  std::ifstream err(stderr_path_);
  std::stringstream err_text;
  err_text << err.rdbuf();
  int ledgers = 0;
  for (absl::string_view line : absl::StrSplit(result.output, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() == 2 && words[0] == "acknowledged") result.acknowledged = words[1] == "1";
    if (words.size() != 2 + kLevelCounterCount || words[0] != "ledger") continue;
    int role = 0;
    if (!absl::SimpleAtoi(words[1], &role) || role < 0 || role > 1) continue;
    for (size_t f = 0; f < kLevelCounterCount; ++f) {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(words[2 + f], &v)) continue;
      result.ledger[role].*kCountFields[f].field = v;
    }
    ++ledgers;
  }
  result.reported = exited && WIFEXITED(status) && ledgers == 2;
  result.output += err_text.str();
  return result;
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
