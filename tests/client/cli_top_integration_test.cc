// `moq-stats top` run for real: the real daemon, the real binary on a real
// terminal (a tmux pane, read with capture-pane and driven with send-keys),
// and the plain lines it prints when stdout is not a terminal.

#include <stdio.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "tests/client/test_tools/cli_runner.h"

namespace moq_stats::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// How long a screen may take to show what the test waits for.
constexpr absl::Duration kScreenWait = absl::Seconds(20);
// Between two looks at the screen.
constexpr absl::Duration kPoll = absl::Milliseconds(50);

// Runs `command` with sh; its stdout.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// A private tmux server (its socket in a temporary directory) with one
// pane 100x30 running `command`; panes stay readable once their program
// exited. Killed with its server when this goes.
class TmuxPane {
 public:
  explicit TmuxPane(const std::string& dir, const std::string& command) : socket_(dir + "/tmux.sock") {
    const std::string conf = dir + "/tmux.conf";
    std::ofstream(conf) << "set -g remain-on-exit on\n";
    Shell(absl::StrCat("tmux -S ", socket_, " -f ", conf, " new-session -d -s top -x 100 -y 30 ", Quote(command)));
  }
  ~TmuxPane() { Shell(absl::StrCat("tmux -S ", socket_, " kill-server 2>/dev/null")); }

  // The visible screen and the history above it, as plain text.
  std::string Capture() const { return Shell(absl::StrCat("tmux -S ", socket_, " capture-pane -p -S - -t top")); }
  // A tmux format of the pane, e.g. "#{pane_dead}".
  std::string Format(const std::string& format) const {
    std::string out = Shell(absl::StrCat("tmux -S ", socket_, " display -p -t top ", Quote(format)));
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  void Resize(int columns, int lines) const {
    Shell(absl::StrCat("tmux -S ", socket_, " resize-window -t top -x ", columns, " -y ", lines));
  }
  void SendKeys(const std::string& keys) const {
    Shell(absl::StrCat("tmux -S ", socket_, " send-keys -t top ", Quote(keys)));
  }

  // Looks at the screen until `done(screen)` holds or kScreenWait passes;
  // the last screen seen, and whether `done` held.
  bool WaitFor(const std::function<bool(const std::string&)>& done, std::string* screen) const {
    const absl::Time deadline = absl::Now() + kScreenWait;
    for (;;) {
      *screen = Capture();
      if (done(*screen)) return true;
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(kPoll);
    }
  }

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

 private:
  std::string socket_;
};

// The table rows of a top screen: each line after the "KEY" header as words.
std::vector<std::vector<std::string>> Rows(const std::string& screen) {
  std::vector<std::vector<std::string>> rows;
  bool table = false;
  for (const std::string& line : Lines(screen)) {
    std::vector<std::string> words = Words(line);
    if (!table) {
      table = !words.empty() && words[0] == "KEY";
      continue;
    }
    if (words.size() != 5) break;  // the end of the table
    rows.push_back(words);
  }
  return rows;
}

const std::vector<std::string>* FindRow(const std::vector<std::vector<std::string>>& rows, const std::string& key) {
  for (const auto& row : rows) {
    if (row[0] == key) return &row;
  }
  return nullptr;
}

// A rate as top shows it ("4.00M", "850", "0.5"); -1 for "-".
double RateValue(const std::string& text) {
  if (text.empty() || text == "-") return -1;
  double scale = 1;
  std::string number = text;
  switch (text.back()) {
    case 'k':
      scale = 1e3;
      break;
    case 'M':
      scale = 1e6;
      break;
    case 'G':
      scale = 1e9;
      break;
    default:
      break;
  }
  if (scale != 1) number.pop_back();
  double value = -1;
  return absl::SimpleAtod(number, &value) ? value * scale : -1;
}

// Open subscriptions of the external publisher role on `key`.
uint64_t Viewers(const DaemonProcess& daemon, const std::string& key) {
  pb::GetLevelRequest request;
  request.set_key(key);
  pb::GetLevelResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  if (!daemon.NewStub()->GetLevel(&context, request, &response).ok()) return 0;
  const pb::Snapshot& s = response.level().external_publisher();
  return s.subscriptions() - s.subscriptions_closed();
}

class CliTopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start());
    // b/news: one viewer held open for the whole test, no bytes.
    viewer_ = std::make_unique<CliProcess>(
        std::vector<std::string>{"--target=" + daemon_.target(), "bump", "--path=b/news/y", "--hold=600s"},
        std::vector<std::string>{}, "");
    const absl::Time deadline = absl::Now() + kWait;
    while (Viewers(daemon_, "b/news") != 1 && absl::Now() < deadline) absl::SleepFor(kPoll);
    ASSERT_EQ(Viewers(daemon_, "b/news"), 1u);
  }
  void TearDown() override {
    if (viewer_) {
      viewer_->Signal(SIGINT);
      EXPECT_EQ(viewer_->Wait(), 0) << viewer_->err();
    }
    if (HasFailure()) ADD_FAILURE() << daemon_.Log();
  }

  // The pane's command: top, then what the terminal was left as (whether it
  // is back in cooked mode), then a wait for a key so that the pane stays
  // alive to be looked at.
  std::string TopInPane(const std::vector<std::string>& top_args) const {
    std::string command = absl::StrCat(TmuxPane::Quote(CliBinary()), " --target=", daemon_.target(), " top");
    for (const std::string& arg : top_args) absl::StrAppend(&command, " ", TmuxPane::Quote(arg));
    // One line, written at once: "top exited N; terminal: MODES end".
    return absl::StrCat(command, "; echo \"top exited $?; terminal: $(stty -a | tr ' ' '\\n' | grep -x -e icanon",
                        " -e echo -e isig | tr '\\n' ' ')end\"; read done");
  }

  DaemonProcess daemon_{{"--stats-levels=2"}};
  std::unique_ptr<CliProcess> viewer_;
};

TEST_F(CliTopTest, ShowsRatesSwitchesSortAndQuitsRestoringTheTerminal) {
  // a/sport exists before top reads it: a level's rates start from its
  // second reading.
  RunResult create = RunCli({"--target=" + daemon_.target(), "bump", "--path=a/sport/x"});
  ASSERT_EQ(create.exit_code, 0) << create.description << create.err;
  TmuxPane pane(daemon_.dir(), TopInPane({"--interval=2s"}));
  std::string screen;
  ASSERT_TRUE(pane.WaitFor(
      [](const std::string& s) {
        const std::vector<std::vector<std::string>> rows = Rows(s);
        const auto* row = FindRow(rows, "a/sport");
        return FindRow(rows, "b/news") != nullptr && row != nullptr && (*row)[2] == "0";
      },
      &screen))
      << screen;
  EXPECT_THAT(screen, HasSubstr("1 relay session  bridge: off"));
  EXPECT_THAT(screen, HasSubstr("sorted by bitrate  (s: sort, q: quit)"));
  EXPECT_EQ(pane.Format("#{alternate_on} #{cursor_flag}"), "1 0");  // its own screen, cursor hidden

  // 1,000,000 bytes in one frame on a/sport: 8,000,000 bits over one
  // refresh interval of 2 s, 4.00M b/s (the interval measured between the
  // sidecar's answers, so allow some slack).
  RunResult bump =
      RunCli({"--target=" + daemon_.target(), "bump", "--path=a/sport/x", "--bytes=1000000", "--frames=1"});
  ASSERT_EQ(bump.exit_code, 0) << bump.description << bump.err;
  ASSERT_TRUE(pane.WaitFor(
      [](const std::string& s) {
        // A refresh drawn whole: the screen is one write, but tmux may
        // show it while it has read only its start (the header and the
        // first rows new, the last rows of the refresh before), so the
        // totals line must agree with the row.
        const std::vector<std::vector<std::string>> rows = Rows(s);
        const auto* row = FindRow(rows, "a/sport");
        return row != nullptr && RateValue((*row)[2]) > 0 &&
               absl::StrContains(s, "total: viewers 1  out " + (*row)[2] + " b/s") &&
               FindRow(rows, "b/news") != nullptr;
      },
      &screen))
      << screen;
  std::vector<std::vector<std::string>> rows = Rows(screen);
  ASSERT_EQ(rows.size(), 4u) << screen;
  // By bitrate: a and a/sport (the same traffic; ties in key order), then
  // the idle b and b/news.
  EXPECT_EQ(rows[0][0], "a") << screen;
  EXPECT_EQ(rows[1][0], "a/sport") << screen;
  EXPECT_EQ(rows[1][1], "0");  // the bump's subscription is closed
  const double out_bits = RateValue(rows[1][2]);
  // The time between two refreshes is 2 s from the start of one read to the
  // start of the next, measured from the end of each: slack for a loaded
  // machine.
  EXPECT_GT(out_bits, 8e6 / 4) << screen;
  EXPECT_LT(out_bits, 8e6 / 1.2) << screen;
  const double frames = RateValue(rows[1][4]);
  EXPECT_GT(frames, 1 / 4.0) << screen;
  EXPECT_LT(frames, 1 / 1.2) << screen;
  EXPECT_EQ(rows[2][0], "b");
  EXPECT_EQ(rows[3], (std::vector<std::string>{"b/news", "1", "0", "0", "0"})) << screen;

  // s: by viewers, b and b/news first. (By bitrate the order stays a, a/sport
  // even once their rate is back to 0: ties go in key order.)
  pane.SendKeys("s");
  ASSERT_TRUE(pane.WaitFor(
      [](const std::string& s) {
        std::vector<std::vector<std::string>> r = Rows(s);
        return absl::StrContains(s, "sorted by viewers") && r.size() == 4 && r[0][0] == "b" && r[1][0] == "b/news";
      },
      &screen))
      << screen;
  pane.SendKeys("s");
  ASSERT_TRUE(pane.WaitFor(
      [](const std::string& s) {
        std::vector<std::vector<std::string>> r = Rows(s);
        return absl::StrContains(s, "sorted by bitrate") && r.size() == 4 && r[0][0] == "a";
      },
      &screen))
      << screen;

  pane.SendKeys("q");
  ASSERT_TRUE(pane.WaitFor([](const std::string& s) { return absl::StrContains(s, " end\n"); }, &screen)) << screen;
  // Cooked mode again: the signals, line editing and echo are back.
  EXPECT_THAT(screen, HasSubstr("top exited 0; terminal: isig icanon echo end\n"));  // cooked mode again
  EXPECT_THAT(screen, Not(HasSubstr("VIEWERS")));                                    // the alternate screen was left
  EXPECT_EQ(pane.Format("#{alternate_on} #{cursor_flag}"), "0 1");
}

TEST_F(CliTopTest, SigtermQuitsRestoringTheTerminal) {
  TmuxPane pane(daemon_.dir(), TopInPane({"--interval=1s", "--sort=viewers"}));
  std::string screen;
  ASSERT_TRUE(pane.WaitFor([](const std::string& s) { return FindRow(Rows(s), "b/news") != nullptr; }, &screen))
      << screen;
  EXPECT_THAT(screen, HasSubstr("sorted by viewers"));
  // The terminal shrinks to 60x7 (SIGWINCH): the key column takes what the
  // numbers leave (60 - 40 = 20) and two rows are left room.
  pane.Resize(60, 7);
  ASSERT_TRUE(pane.WaitFor(
      [](const std::string& s) {
        return absl::StrContains(s, "\nKEY                    VIEWERS   OUT b/s    IN b/s  FRAMES/s\n");
      },
      &screen))
      << screen;
  const std::vector<std::vector<std::string>> rows = Rows(screen);
  ASSERT_EQ(rows.size(), 2u) << screen;
  EXPECT_EQ(rows[0][0], "b");
  EXPECT_EQ(rows[1][0], "b/news");
  // At most 60 columns: the characters of a line ("…" ends a line cut short).
  for (const std::string& line : Lines(screen)) {
    const auto columns = std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; });
    EXPECT_LE(columns, 60) << line;
  }
  EXPECT_THAT(screen, HasSubstr("\xe2\x80\xa6\n"));
  // top is the only child of the pane's shell.
  const std::string shell = pane.Format("#{pane_pid}");
  std::ifstream children_file(absl::StrCat("/proc/", shell, "/task/", shell, "/children"));
  int top_pid = 0;
  ASSERT_TRUE(children_file >> top_pid) << "no child of the pane's shell " << shell;
  ASSERT_EQ(kill(top_pid, SIGTERM), 0);
  ASSERT_TRUE(pane.WaitFor([](const std::string& s) { return absl::StrContains(s, " end\n"); }, &screen)) << screen;
  // Cooked mode again: the signals, line editing and echo are back.
  EXPECT_THAT(screen, HasSubstr("top exited 0; terminal: isig icanon echo end\n"));
  EXPECT_THAT(screen, Not(HasSubstr("VIEWERS")));
  EXPECT_EQ(pane.Format("#{alternate_on} #{cursor_flag}"), "0 1");
}

TEST_F(CliTopTest, NotATerminalPrintsPlainSnapshotsAndStopsAfterIterations) {
  const std::string file = daemon_.dir() + "/top.txt";
  const std::string command =
      absl::StrCat(TmuxPane::Quote(CliBinary()), " --target=", daemon_.target(),
                   " top --interval=100ms --iterations=3 --prefix=b > ", TmuxPane::Quote(file), " 2>&1; echo $?");
  EXPECT_EQ(Shell(command), "0\n");
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  const std::string out = text.str();
  EXPECT_THAT(out, Not(HasSubstr("\x1b"))) << out;
  // Three snapshots, each ending in a blank line; only levels under b.
  std::vector<std::string> snapshots = absl::StrSplit(out, "\n\n", absl::SkipEmpty());
  ASSERT_EQ(snapshots.size(), 3u) << out;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    EXPECT_THAT(snapshots[i], HasSubstr("levels 2  total: viewers 1")) << snapshots[i];
    EXPECT_THAT(snapshots[i], Not(HasSubstr("(s: sort"))) << snapshots[i];
    std::vector<std::vector<std::string>> rows = Rows(snapshots[i] + "\n");
    ASSERT_EQ(rows.size(), 2u) << snapshots[i];
    EXPECT_EQ(rows[0][0], "b");
    // The first has no rates yet; the next ones have, and nothing moved.
    EXPECT_EQ(rows[1], (i == 0 ? std::vector<std::string>{"b/news", "1", "-", "-", "-"}
                               : std::vector<std::string>{"b/news", "1", "0", "0", "0"}))
        << snapshots[i];
  }
}

TEST_F(CliTopTest, NotATerminalWithTheSidecarGoneExitsOneAfterIterations) {
  RunResult result =
      RunCli({"--target=unix:" + daemon_.dir() + "/nothing.sock", "top", "--interval=100ms", "--iterations=2"});
  EXPECT_EQ(result.exit_code, 1) << result.description;
  EXPECT_THAT(result.out, HasSubstr("(no answer yet)"));
  EXPECT_THAT(result.out, HasSubstr("error: cannot reach the sidecar"));
  EXPECT_THAT(result.err, HasSubstr("cannot reach the sidecar"));
}

}  // namespace
}  // namespace moq_stats::cli::test
