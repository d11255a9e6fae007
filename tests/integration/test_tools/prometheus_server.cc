#include "tests/integration/test_tools/prometheus_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/json/parse.h"
#include "tests/integration/test_tools/admin_http_client.h"

namespace moq_stats {
namespace integration {
namespace {

constexpr absl::Duration kPoll = absl::Milliseconds(50);

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Forks and execs `argv` in `dir` with stdin, stdout and stderr on the fds
// given (opened by the parent; the child only dup2s). The pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& dir, int in_fd, int out_fd, int err_fd) {
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (std::string& s : storage) args.push_back(s.data());
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: async-signal-safe calls only.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (chdir(dir.c_str()) != 0) _exit(125);
  if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) _exit(124);
  execv(args[0], args.data());
  _exit(127);
}

std::optional<int> WaitPid(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCode(status);
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(kPoll);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return bool(out);
}

// A sample's value as Prometheus writes it: a string ("12", "+Inf", "NaN").
std::optional<double> SampleValue(const json::Value& pair) {
  if (!pair.is_array() || pair.as_array().size() != 2 || !pair.as_array()[1].is_string()) return std::nullopt;
  const std::string& text = pair.as_array()[1].as_string();
  double value = 0;
  if (!absl::SimpleAtod(text, &value)) return std::nullopt;
  return value;
}

}  // namespace

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

CommandResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text, const std::string& dir,
                         absl::Duration timeout) {
  CommandResult result;
  static int serial = 0;
  const std::string base = absl::StrCat(dir, "/program-", ++serial);
  if (!WriteFile(base + ".in", stdin_text)) {
    ADD_FAILURE() << "cannot write " << base << ".in";
    return result;
  }
  const int in_fd = open((base + ".in").c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd = open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "cannot open the files of " << base;
    return result;
  }
  const pid_t pid = Spawn(argv, dir, in_fd, out_fd, err_fd);
  close(in_fd);
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
  result.out = ReadFile(base + ".out");
  result.err = ReadFile(base + ".err");
  return result;
}

PrometheusServer::PrometheusServer(std::vector<std::string> targets) : targets_(std::move(targets)) {}

PrometheusServer::~PrometheusServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!WaitPid(pid_, absl::Seconds(10))) {
    kill(pid_, SIGKILL);
    WaitPid(pid_, absl::Seconds(5));
  }
}

::testing::AssertionResult PrometheusServer::Start() {
  port_ = PickFreeLoopbackPort();
  std::vector<std::string> quoted;
  for (const std::string& t : targets_) quoted.push_back(absl::StrCat("'", t, "'"));
  const std::string config = absl::StrCat(
      "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
      "scrape_configs:\n"
      "  - job_name: moq-stats-sidecar\n"
      "    static_configs: [{targets: [",
      absl::StrJoin(quoted, ", "), "]}]\n");
  if (!WriteFile(dir_.path() + "/prometheus.yml", config)) {
    return ::testing::AssertionFailure() << "cannot write the Prometheus config";
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int log_fd = open((dir_.path() + "/prometheus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = Spawn({kPrometheusBinary, "--config.file=" + dir_.path() + "/prometheus.yml",
                "--storage.tsdb.path=" + dir_.path() + "/data", absl::StrCat("--web.listen-address=127.0.0.1:", port_),
                "--log.level=warn"},
               dir_.path(), null_fd, log_fd, log_fd);
  close(null_fd);
  close(log_fd);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (std::optional<int> exited = WaitPid(pid_, absl::ZeroDuration())) {
      pid_ = -1;
      return ::testing::AssertionFailure() << "prometheus exited with " << *exited << ":\n" << Log();
    }
    absl::StatusOr<HttpResponse> ready = HttpGet(port_, "/-/ready", absl::Seconds(1));
    if (ready.ok() && ready->status == 200) return ::testing::AssertionSuccess();
    absl::SleepFor(kPoll);
  }
  return ::testing::AssertionFailure() << "prometheus not ready within 10 s:\n" << Log();
}

absl::StatusOr<json::Value> PrometheusServer::Query(const std::string& expr, std::optional<absl::Time> at) const {
  std::string target = "/api/v1/query?query=" + UrlEncode(expr);
  if (at) absl::StrAppend(&target, "&time=", absl::StrFormat("%.3f", absl::ToDoubleSeconds(*at - absl::UnixEpoch())));
  absl::StatusOr<HttpResponse> res = HttpGet(port_, target, absl::Seconds(5));
  if (!res.ok()) return res.status();
  absl::StatusOr<json::Value> body = json::Parse(res->body);
  if (!body.ok()) return absl::InternalError(absl::StrCat("not JSON (", res->status, "): ", res->body));
  const json::Value* status = body->is_object() ? body->as_object().Find("status") : nullptr;
  if (status == nullptr || !status->is_string() || status->as_string() != "success") {
    return absl::InternalError(absl::StrCat("query ", expr, " failed: ", res->body));
  }
  const json::Value* data = body->as_object().Find("data");
  if (data == nullptr) return absl::InternalError(absl::StrCat("no data: ", res->body));
  return *data;
}

std::optional<double> PrometheusServer::Value(const std::string& expr, std::optional<absl::Time> at,
                                              std::string* why) const {
  auto fail = [why](std::string reason) -> std::optional<double> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  absl::StatusOr<json::Value> data = Query(expr, at);
  if (!data.ok()) return fail(std::string(data.status().message()));
  const json::Value* type = data->as_object().Find("resultType");
  const json::Value* result = data->as_object().Find("result");
  if (type == nullptr || result == nullptr || !type->is_string()) return fail("no resultType or result");
  if (type->as_string() == "scalar") return SampleValue(*result);
  if (type->as_string() != "vector" || !result->is_array()) return fail("result is a " + type->as_string());
  if (result->as_array().size() != 1) return fail(absl::StrCat(result->as_array().size(), " samples for ", expr));
  const json::Value* value = result->as_array()[0].as_object().Find("value");
  if (value == nullptr) return fail("sample without value");
  return SampleValue(*value);
}

std::string PrometheusServer::Log() const { return ReadFile(dir_.path() + "/prometheus.log"); }

}  // namespace integration
}  // namespace moq_stats
