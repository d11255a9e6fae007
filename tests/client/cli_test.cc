// End to end: the real moq-stats binary run as a subprocess against the real
// daemon. What it prints must be what the sidecar holds (checked against the
// counts bumped and against the daemon's own answers), its --json output must
// parse as JSON, and its exit statuses must say usage error (2), trouble with
// the sidecar (1) or success (0).

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

namespace moqstats {
namespace {

using ::moqstats::integration::DaemonProcess;
using ::moqstats::integration::TempDir;
using ::testing::HasSubstr;
namespace pb = ::moq::stats::v1;

constexpr absl::Duration kRunTimeout = absl::Seconds(30);
constexpr absl::Duration kWait = absl::Seconds(10);

const char* CliBinary() { return MOQSTATS_CLI_BINARY; }

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
RunResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
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
std::optional<google::protobuf::Value> ParseJson(const std::string& text) {
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(text, &value).ok()) return std::nullopt;
  return value;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::vector<std::string> Words(const std::string& line) {
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

// The seven counters, in the CLI's column order (broadcasts,
// broadcasts_closed, subscriptions, subscriptions_closed, bytes, frames,
// groups), all zero.
const std::vector<uint64_t> kZeros(7, 0);

std::vector<uint64_t> CountsOf(const pb::Snapshot& s) {
  return {s.broadcasts(), s.broadcasts_closed(), s.subscriptions(), s.subscriptions_closed(),
          s.bytes(),      s.frames(),            s.groups()};
}

// The counters of a JSON snapshot object, as integers; empty when a member
// is missing or not a whole number.
std::vector<uint64_t> CountsOf(const google::protobuf::Value& snapshot) {
  static const char* const kNames[] = {"broadcasts", "broadcasts_closed", "subscriptions", "subscriptions_closed",
                                       "bytes",      "frames",            "groups"};
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
std::vector<uint64_t> NumbersAfter(const std::vector<std::string>& words, size_t skip) {
  std::vector<uint64_t> out;
  for (size_t i = skip; i < words.size(); ++i) out.push_back(std::stoull(words[i]));
  return out;
}

// `get`'s text: the counters on the row of (tier, role).
std::optional<std::vector<uint64_t>> GetRow(const std::string& out, const std::string& tier, const std::string& role) {
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    if (w.size() == 9 && w[0] == tier && w[1] == role) return NumbersAfter(w, 2);
  }
  return std::nullopt;
}

// `levels`' text: the words of the row of (key as shown, tier, role).
std::optional<std::vector<std::string>> LevelsRow(const std::string& out, const std::string& key,
                                                  const std::string& tier, const std::string& role) {
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    if (w.size() == 12 && w[0] == key && w[3] == tier && w[4] == role) return w;
  }
  return std::nullopt;
}

const google::protobuf::Value* Member(const google::protobuf::Value& object, const std::string& name) {
  if (!object.has_struct_value()) return nullptr;
  auto it = object.struct_value().fields().find(name);
  return it == object.struct_value().fields().end() ? nullptr : &it->second;
}

std::string StringMember(const google::protobuf::Value& object, const std::string& name) {
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

TEST_F(CliTest, BumpThenGetShowsTheExactCountsOnTheRootAndTheFirstSegment) {
  RunResult bump = Run({"bump", "--path=demo/bbb", "--frames=10", "--bytes=1200", "--groups=3"});
  ASSERT_EQ(bump.exit_code, 0) << bump.description;
  EXPECT_THAT(bump.out, HasSubstr("sent: broadcasts 1 (closed 1), subscriptions 1 (closed 1), bytes 1200, frames 10, "
                                  "groups 3"));
  EXPECT_THAT(bump.out, HasSubstr("acknowledged: yes")) << bump.description;

  const std::vector<uint64_t> bumped = {1, 1, 1, 1, 1200, 10, 3};
  for (const std::string key : {"demo", "", "/"}) {
    SCOPED_TRACE(absl::StrCat("get \"", key, "\""));
    RunResult get = Run({"get", key});
    ASSERT_EQ(get.exit_code, 0) << get.description;
    EXPECT_EQ(GetRow(get.out, "external", "publisher"), bumped) << get.description;
    EXPECT_EQ(GetRow(get.out, "external", "subscriber"), kZeros) << get.description;
    EXPECT_EQ(GetRow(get.out, "internal", "publisher"), kZeros) << get.description;
    EXPECT_EQ(GetRow(get.out, "internal", "subscriber"), kZeros) << get.description;
    const std::string advertised = key == "demo" ? ".stats/prefix/demo" : ".stats/prefix";
    EXPECT_THAT(get.out, HasSubstr("advertised  " + advertised + "\n")) << get.description;
  }
  // The second segment is no level at the default depth of 1.
  RunResult deeper = Run({"get", "demo/bbb"});
  EXPECT_EQ(deeper.exit_code, 1) << deeper.description;

  // --json, and a subscriber bump in the internal tier.
  RunResult sub = Run({"--json", "bump", "--path=demo/other", "--tier=internal", "--role=subscriber", "--bytes=7"});
  ASSERT_EQ(sub.exit_code, 0) << sub.description;
  std::optional<google::protobuf::Value> report = ParseJson(sub.out);
  ASSERT_TRUE(report) << sub.description;
  EXPECT_EQ(StringMember(*report, "tier"), "internal");
  EXPECT_EQ(StringMember(*report, "role"), "subscriber");
  ASSERT_TRUE(Member(*report, "acknowledged"));
  EXPECT_TRUE(Member(*report, "acknowledged")->bool_value()) << sub.description;
  ASSERT_TRUE(Member(*report, "sent"));
  EXPECT_EQ(CountsOf(*Member(*report, "sent")), (std::vector<uint64_t>{1, 1, 1, 1, 7, 0, 0}));

  RunResult get = Run({"get", "demo", "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.description;
  ASSERT_EQ(Lines(get.out).size(), 1u) << get.description;
  std::optional<google::protobuf::Value> level = ParseJson(get.out);
  ASSERT_TRUE(level) << "not JSON: " << get.description;
  EXPECT_EQ(StringMember(*level, "key"), "demo");
  EXPECT_EQ(StringMember(*level, "advertised_path"), ".stats/prefix/demo");
  ASSERT_TRUE(Member(*level, "publishing"));
  EXPECT_EQ(Member(*level, "publishing")->kind_case(), google::protobuf::Value::kBoolValue);
  ASSERT_TRUE(Member(*level, "external_publisher") && Member(*level, "internal_subscriber"));
  EXPECT_EQ(CountsOf(*Member(*level, "external_publisher")), bumped);
  EXPECT_EQ(CountsOf(*Member(*level, "internal_subscriber")), (std::vector<uint64_t>{1, 1, 1, 1, 7, 0, 0}));
  EXPECT_EQ(CountsOf(*Member(*level, "external_subscriber")), kZeros);
  EXPECT_EQ(CountsOf(*Member(*level, "internal_publisher")), kZeros);

  // What the CLI shows is what the sidecar holds.
  const pb::Level direct = GetLevelDirect("demo");
  EXPECT_EQ(CountsOf(direct.external_publisher()), bumped);
  EXPECT_EQ(Member(*level, "publishing")->bool_value(), direct.publishing());
}

TEST_F(CliTest, LevelsListsEveryLevelAsTextAndAsOneJsonObjectPerLine) {
  ASSERT_EQ(Run({"bump", "--path=alpha/x", "--frames=2", "--bytes=30"}).exit_code, 0);
  ASSERT_EQ(Run({"bump", "--path=beta/y", "--frames=5", "--groups=1"}).exit_code, 0);

  RunResult text = Run({"levels"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  auto root = LevelsRow(text.out, "\"\"", "external", "publisher");
  auto alpha = LevelsRow(text.out, "alpha", "external", "publisher");
  auto beta = LevelsRow(text.out, "beta", "external", "publisher");
  ASSERT_TRUE(root && alpha && beta) << text.description;
  EXPECT_EQ((*alpha)[1], ".stats/prefix/alpha");
  EXPECT_EQ(NumbersAfter(*root, 5), (std::vector<uint64_t>{2, 2, 2, 2, 30, 7, 1}));
  EXPECT_EQ(NumbersAfter(*alpha, 5), (std::vector<uint64_t>{1, 1, 1, 1, 30, 2, 0}));
  EXPECT_EQ(NumbersAfter(*beta, 5), (std::vector<uint64_t>{1, 1, 1, 1, 0, 5, 1}));
  auto beta_internal = LevelsRow(text.out, "beta", "internal", "subscriber");
  ASSERT_TRUE(beta_internal) << text.description;
  EXPECT_EQ(NumbersAfter(*beta_internal, 5), kZeros);
  // A header and four rows per level.
  EXPECT_EQ(Lines(text.out).size(), 1u + 3 * 4) << text.description;

  RunResult json = Run({"levels", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::vector<std::string> lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 3u) << json.description;
  std::vector<std::string> keys;
  for (const std::string& line : lines) {
    std::optional<google::protobuf::Value> level = ParseJson(line);
    ASSERT_TRUE(level) << "not JSON: " << line;
    keys.push_back(StringMember(*level, "key"));
    const pb::Level direct = GetLevelDirect(keys.back());
    ASSERT_TRUE(Member(*level, "external_publisher")) << line;
    EXPECT_EQ(CountsOf(*Member(*level, "external_publisher")), CountsOf(direct.external_publisher())) << line;
    EXPECT_EQ(StringMember(*level, "advertised_path"), direct.advertised_path());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"", "alpha", "beta"}));

  // Under a prefix: that level only.
  RunResult under = Run({"--json", "levels", "beta"});
  ASSERT_EQ(under.exit_code, 0) << under.description;
  ASSERT_EQ(Lines(under.out).size(), 1u) << under.description;
  std::optional<google::protobuf::Value> beta_json = ParseJson(under.out);
  ASSERT_TRUE(beta_json) << under.description;
  EXPECT_EQ(StringMember(*beta_json, "key"), "beta");

  RunResult none = Run({"levels", "gamma"});
  EXPECT_EQ(none.exit_code, 0) << none.description;
  EXPECT_EQ(none.out, "no levels under \"gamma\"\n");
}

TEST_F(CliTest, JsonStringsAreEscaped) {
  // A path with a quote, a backslash and non-ASCII text, all valid in a path.
  const std::string odd = "q\"uo\\te \xc3\xa9t\xc3\xa9";
  ASSERT_EQ(Run({"bump", "--path=" + odd + "/x", "--frames=1"}).exit_code, 0);
  RunResult json = Run({"--json", "get", odd});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> level = ParseJson(json.out);
  ASSERT_TRUE(level) << "not JSON: " << json.description;
  EXPECT_EQ(StringMember(*level, "key"), odd);
  EXPECT_EQ(StringMember(*level, "advertised_path"), ".stats/prefix/" + odd);
}

TEST_F(CliTest, HealthPrintsServingAndExitsZero) {
  RunResult text = Run({"health"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  EXPECT_THAT(text.out, ::testing::MatchesRegex(
                            "SERVICE +STATUS\n\"\" \\(the server\\) +SERVING\nmoq.stats.v1.StatsService +SERVING\n"));

  RunResult json = Run({"health", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> health = ParseJson(json.out);
  ASSERT_TRUE(health) << json.description;
  ASSERT_TRUE(Member(*health, "services") && Member(*health, "serving")) << json.description;
  EXPECT_EQ(StringMember(*Member(*health, "services"), ""), "SERVING");
  EXPECT_EQ(StringMember(*Member(*health, "services"), "moq.stats.v1.StatsService"), "SERVING");
  EXPECT_TRUE(Member(*health, "serving")->bool_value());
}

TEST_F(CliTest, InfoShowsTheVersionConfigAndCountersOfTheSidecar) {
  ASSERT_EQ(Run({"bump", "--path=i/x", "--frames=1"}).exit_code, 0);
  auto stub = daemon_.NewStub();
  grpc::ClientContext context;
  pb::GetInfoResponse direct;
  ASSERT_GRPC_OK(stub->GetInfo(&context, pb::GetInfoRequest(), &direct));
  // Nothing changes it from here on.
  const double applied_batches = direct.counters().at("moq_stats_batches_applied_total");
  ASSERT_GE(applied_batches, 1);

  RunResult text = Run({"info"});
  ASSERT_EQ(text.exit_code, 0) << text.description;
  EXPECT_THAT(text.out, HasSubstr("version  " + direct.version() + "\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("\nstats-interval +100ms\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("\nlisten +unix:" + daemon_.socket_path() + "\n"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex(absl::StrCat("\nmoq_stats_batches_applied_total +",
                                                              static_cast<uint64_t>(applied_batches), "\n")));

  RunResult json = Run({"info", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> info = ParseJson(json.out);
  ASSERT_TRUE(info) << json.description;
  EXPECT_EQ(StringMember(*info, "version"), direct.version());
  ASSERT_TRUE(Member(*info, "config") && Member(*info, "counters") && Member(*info, "uptime_seconds"));
  EXPECT_GT(Member(*info, "uptime_seconds")->number_value(), 0);
  for (const auto& [name, value] : direct.config()) {
    EXPECT_EQ(StringMember(*Member(*info, "config"), name), value) << name;
  }
  EXPECT_EQ(Member(*info, "config")->struct_value().fields().size(), direct.config().size());
  const google::protobuf::Value* applied = Member(*Member(*info, "counters"), "moq_stats_batches_applied_total");
  ASSERT_TRUE(applied) << json.description;
  EXPECT_EQ(applied->number_value(), applied_batches);
}

TEST_F(CliTest, WatchPrintsTheFramesOfALevelWhileABumpHoldsItsGuards) {
  // The bump holds its guards (so the level publishes) until told to stop.
  CliProcess bump({"--target=" + daemon_.target(), "bump", "--path=live/x", "--frames=7", "--bytes=4321",
                   "--hold=60s"});
  // Watchers connect once the level publishes: a stats broadcast started
  // after Watch was called is announced but its frames never come (the
  // daemon bug exposed in tests/integration/watch_integration_test.cc).
  const absl::Time deadline = absl::Now() + kWait;
  pb::Level level;
  while (absl::Now() < deadline) {
    if (FindLevel("live", &level).ok() && level.publishing() && level.external_publisher().bytes() == 4321) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling the sidecar, not waiting for a guess
  }
  ASSERT_TRUE(level.publishing() && level.external_publisher().bytes() == 4321) << level.ShortDebugString();
  const std::string advertised = level.advertised_path();
  ASSERT_EQ(advertised, ".stats/prefix/live");

  CliProcess text({"--target=" + daemon_.target(), "watch", advertised});
  CliProcess json({"--target=" + daemon_.target(), "--json", "watch", ".stats"});
  const std::string counts = "\"broadcasts\":1,\"broadcasts_closed\":0,\"subscriptions\":1,"
                             "\"subscriptions_closed\":0,\"bytes\":4321,\"frames\":7,\"groups\":0";
  const std::string frame_line = "\"level\":\"live\",\"tier\":\"external\",\"role\":\"publisher\",";
  auto has_frame = [&](const std::string& out) {
    for (const std::string& line : Lines(out)) {
      if (absl::StrContains(line, frame_line) && absl::StrContains(line, counts)) return true;
    }
    return false;
  };
  ASSERT_TRUE(text.ReadUntil(has_frame, kWait)) << text.Describe();
  ASSERT_TRUE(json.ReadUntil(has_frame, kWait)) << json.Describe();

  text.Signal(SIGINT);
  json.Signal(SIGINT);
  EXPECT_EQ(text.Wait(), 0) << text.Describe();
  EXPECT_EQ(json.Wait(), 0) << json.Describe();

  // Text: the announcement, then payloads exactly as published (JSON objects).
  std::vector<std::string> text_lines = Lines(text.out());
  ASSERT_FALSE(text_lines.empty());
  EXPECT_EQ(text_lines[0], "# announce " + advertised);
  for (size_t i = 1; i < text_lines.size(); ++i) {
    EXPECT_TRUE(ParseJson(text_lines[i])) << "not a JSON payload: " << text_lines[i];
  }

  // JSON: every line an object; the frame of the level carries its payload
  // inlined.
  bool announced = false, found = false;
  for (const std::string& line : Lines(json.out())) {
    std::optional<google::protobuf::Value> event = ParseJson(line);
    ASSERT_TRUE(event && event->has_struct_value()) << "not a JSON object: " << line;
    if (StringMember(*event, "announce") == advertised) announced = true;
    if (StringMember(*event, "path") != advertised || StringMember(*event, "track") != "publisher.json") continue;
    const google::protobuf::Value* frame = Member(*event, "frame");
    ASSERT_TRUE(frame && Member(*event, "sequence")) << line;
    if (CountsOf(*frame) == std::vector<uint64_t>{1, 0, 1, 0, 4321, 7, 0}) {
      found = true;
      EXPECT_EQ(StringMember(*frame, "level"), "live");
    }
  }
  EXPECT_TRUE(announced) << json.Describe();
  EXPECT_TRUE(found) << json.Describe();

  // Ctrl-C ends the hold early; the guards are closed and acknowledged.
  bump.Signal(SIGINT);
  ASSERT_EQ(bump.Wait(), 0) << bump.Describe();
  EXPECT_THAT(bump.out(), HasSubstr("(ended early by a signal)"));
  EXPECT_THAT(bump.out(), HasSubstr("acknowledged: yes"));
  EXPECT_EQ(CountsOf(GetLevelDirect("live").external_publisher()), (std::vector<uint64_t>{1, 1, 1, 1, 4321, 7, 0}));
}

TEST_F(CliTest, GetOfAMissingLevelExitsOneWithNotFound) {
  RunResult get = Run({"get", "no/such"});
  EXPECT_EQ(get.exit_code, 1) << get.description;
  EXPECT_THAT(get.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(get.err, HasSubstr("no level \"no/such\""));
  EXPECT_EQ(get.out, "");
}

TEST_F(CliTest, TargetComesFromTheEnvironmentAndDefaultsToTheSocketInTheWorkingDirectory) {
  RunResult from_env = RunCli({"health"}, {"MOQ_STATS_TARGET=" + daemon_.target()});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.description;
  // The flag wins over the variable.
  RunResult flag_wins = RunCli({"--target=" + daemon_.target(), "health"}, {"MOQ_STATS_TARGET=unix:/nonexistent"});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.description;
  // unix:moq-stats.sock in the working directory.
  DaemonProcess defaults({"--listen=unix:moq-stats.sock"});
  ASSERT_TRUE(defaults.Start());
  RunResult by_default = RunCli({"health"}, {}, defaults.dir());
  EXPECT_EQ(by_default.exit_code, 0) << by_default.description;
}

// ---------------------------------------------------------------------------
// Without a sidecar.

TEST(CliUsageTest, UsageErrorsExitTwoWithAMessage) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no command given"},
      {{"frob"}, "unknown command \"frob\""},
      {{"--frob", "info"}, "unknown flag --frob"},
      {{"info", "--path=x"}, "unknown flag --path for info"},
      {{"get"}, "the level is missing"},
      {{"get", "a", "b"}, "unexpected argument \"b\""},
      {{"info", "extra"}, "unexpected argument \"extra\""},
      {{"bump"}, "--path is missing"},
      {{"bump", "--path=x", "--frames=abc"}, "--frames: \"abc\" is not a number"},
      {{"bump", "--path=x", "--bytes=-1"}, "--bytes: \"-1\" is not a number"},
      {{"bump", "--path=x", "--bytes=99999999999999999999"}, "out of range"},
      {{"bump", "--path=x", "--frames=100000001"}, "above the limit"},
      {{"bump", "--path=x", "--tier=middle"}, "--tier: \"middle\" is not external or internal"},
      {{"bump", "--path=x", "--role=peer"}, "--role"},
      {{"bump", "--path=x", "--hold=forever"}, "is not a duration"},
      {{"--timeout=0", "info"}, "--timeout: must be above zero"},
      {{"--timeout=soon", "info"}, "--timeout"},
      {{"info", "--target"}, "--target needs a value"},
      {{"--json=maybe", "info"}, "--json"},
  };
  for (const auto& [args, message] : cases) {
    RunResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << r.description;
    EXPECT_THAT(r.err, ::testing::StartsWith("moq-stats: ")) << r.description;
    EXPECT_THAT(r.err, HasSubstr(message)) << r.description;
    EXPECT_EQ(r.out, "") << r.description;
  }
}

TEST(CliUsageTest, HelpExitsZero) {
  RunResult general = RunCli({"--help"});
  EXPECT_EQ(general.exit_code, 0) << general.description;
  for (const char* command : {"levels", "get", "watch", "bump", "health", "info"}) {
    EXPECT_THAT(general.out, HasSubstr(absl::StrCat("  ", command, " "))) << command;
    // Per command, even with its arguments missing.
    RunResult own = RunCli({command, "--help"});
    EXPECT_EQ(own.exit_code, 0) << own.description;
    EXPECT_THAT(own.out, HasSubstr(absl::StrCat("usage: moq-stats [global flags] ", command))) << own.description;
  }
}

TEST(CliUsageTest, AnUnreachableSidecarExitsOneNamingTheTarget) {
  TempDir dir;
  const std::string target = "unix:" + dir.path() + "/no-such.sock";
  const std::vector<std::vector<std::string>> commands = {
      {"get", ""}, {"levels"}, {"info"}, {"health"}, {"watch"}, {"--timeout=1s", "bump", "--path=a/b"}};
  for (std::vector<std::string> args : commands) {
    args.insert(args.begin(), "--target=" + target);
    RunResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << r.description;
    EXPECT_THAT(r.err, HasSubstr("moq-stats: cannot reach the sidecar at " + target + ": ")) << r.description;
  }
}

}  // namespace
}  // namespace moqstats
