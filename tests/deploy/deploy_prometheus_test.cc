// deploy/prometheus and deploy/grafana checked against the real daemon:
// promtool accepts the scrape config and the alerting rules and runs their
// unit tests; the Grafana dashboard parses, is laid out sanely, and every
// moq_stats_* series its queries (and the rules) name is one the daemon
// exports, read from a real /metrics.

#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json/parse.h"
#include "gtest/gtest.h"
#include "tests/client/test_tools/cli_runner.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/prometheus_server.h"

namespace moq_stats::integration {
namespace {

const std::string kPrometheusDir = std::string(MOQSTATS_SOURCE_DIR) + "/deploy/prometheus";
const std::string kDashboard = std::string(MOQSTATS_SOURCE_DIR) + "/deploy/grafana/moq-stats-sidecar.json";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The moq_stats_* names in `text` (PromQL, YAML, anything).
std::set<std::string> SeriesNamed(const std::string& text) {
  static const std::regex kName("moq_stats_[a-z0-9_]+");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName); it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// The metric families of a Prometheus text scrape (its "# TYPE" lines).
std::set<std::string> Families(const std::string& exposition) {
  std::set<std::string> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "# TYPE ")) continue;
    out.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return out;
}

// The names among `named` that are not in `exported`.
std::vector<std::string> Unknown(const std::set<std::string>& named, const std::set<std::string>& exported) {
  std::vector<std::string> out;
  for (const std::string& name : named) {
    if (exported.count(name) == 0) out.push_back(name);
  }
  return out;
}

class DeployPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPromtoolBinary, X_OK) != 0) {
      GTEST_SKIP() << kPromtoolBinary << " is missing: install Debian's prometheus (scripts/install-deps.sh does)";
    }
  }

  CommandResult Promtool(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kPromtoolBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", kPrometheusDir);
  }

  // Every family a daemon exports with levels, checkpoints and a dialling
  // bridge (to a port where nothing listens: it stays disconnected).
  std::set<std::string> ExportedFamilies() {
    DaemonProcess daemon(
        {"--stats-levels=2", absl::StrCat("--origin-url=ws://127.0.0.1:", PickFreeLoopbackPort(), "/x")});
    EXPECT_TRUE(daemon.Start());
    auto bump = cli::test::RunCli({"--target=" + daemon.target(), "bump", "--path=live/cam", "--bytes=10"});
    EXPECT_EQ(bump.exit_code, 0) << bump.description;
    absl::StatusOr<HttpResponse> metrics = HttpGet(daemon.admin_port(), "/metrics");
    EXPECT_TRUE(metrics.ok()) << metrics.status();
    return metrics.ok() ? Families(metrics->body) : std::set<std::string>();
  }
};

TEST_F(DeployPrometheusTest, PromtoolAcceptsTheConfigAndTheRules) {
  CommandResult config = Promtool({"check", "config", "prometheus.yml"});
  EXPECT_EQ(config.exit_code, 0) << config.out << config.err;
  CommandResult rules = Promtool({"check", "rules", "alerts.yml"});
  EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;
  EXPECT_NE(rules.out.find("SUCCESS: 7 rules found"), std::string::npos) << rules.out;
  CommandResult tests = Promtool({"test", "rules", "alerts_test.yml"});
  EXPECT_EQ(tests.exit_code, 0) << tests.out << tests.err;
}

TEST_F(DeployPrometheusTest, TheRuleTestsCanFail) {
  // The same tests against rules with the alerts' `for` removed: promtool
  // must report the alerts that now fire too early.
  TempDir dir;
  std::string rules = ReadText(kPrometheusDir + "/alerts.yml");
  rules = std::regex_replace(rules, std::regex("\n        for: [0-9a-z]+"), "");
  std::ofstream(dir.path() + "/alerts.yml") << rules;
  std::ofstream(dir.path() + "/alerts_test.yml") << ReadText(kPrometheusDir + "/alerts_test.yml");
  CommandResult tests = RunProgram({kPromtoolBinary, "test", "rules", "alerts_test.yml"}, "", dir.path());
  EXPECT_NE(tests.exit_code, 0) << tests.out << tests.err;
}

TEST_F(DeployPrometheusTest, DashboardAndRulesNameOnlyExportedSeries) {
  const std::string text = ReadText(kDashboard);
  absl::StatusOr<json::Value> dashboard = json::Parse(text);
  ASSERT_TRUE(dashboard.ok()) << dashboard.status();
  ASSERT_TRUE(dashboard->is_object());
  const json::Value* panels = dashboard->as_object().Find("panels");
  ASSERT_TRUE(panels != nullptr && panels->is_array() && !panels->as_array().empty());

  // Layout: unique ids, a title, a grid position, and queries with unique
  // refIds.
  std::set<std::string> exprs_text;
  std::set<uint64_t> ids;
  for (const json::Value& panel : panels->as_array()) {
    ASSERT_TRUE(panel.is_object());
    const json::Object& p = panel.as_object();
    const json::Value* id = p.Find("id");
    const json::Value* title = p.Find("title");
    ASSERT_TRUE(id != nullptr && id->is_uint64());
    ASSERT_TRUE(title != nullptr && title->is_string());
    EXPECT_TRUE(ids.insert(id->as_uint64()).second) << "id " << id->as_uint64() << " twice";
    const json::Value* grid = p.Find("gridPos");
    ASSERT_TRUE(grid != nullptr && grid->is_object()) << title->as_string();
    for (const char* k : {"x", "y", "w", "h"}) EXPECT_NE(grid->as_object().Find(k), nullptr) << title->as_string();
    const json::Value* targets = p.Find("targets");
    ASSERT_TRUE(targets != nullptr && targets->is_array() && !targets->as_array().empty()) << title->as_string();
    std::set<std::string> refs;
    for (const json::Value& target : targets->as_array()) {
      const json::Value* expr = target.as_object().Find("expr");
      const json::Value* ref = target.as_object().Find("refId");
      ASSERT_TRUE(expr != nullptr && expr->is_string()) << title->as_string();
      ASSERT_TRUE(ref != nullptr && ref->is_string()) << title->as_string();
      EXPECT_TRUE(refs.insert(ref->as_string()).second) << title->as_string();
      EXPECT_FALSE(SeriesNamed(expr->as_string()).empty() && !absl::StrContains(expr->as_string(), "up{"))
          << title->as_string() << ": " << expr->as_string();
      exprs_text.insert(expr->as_string());
    }
  }
  const std::set<std::string> exported = ExportedFamilies();
  ASSERT_FALSE(exported.empty());
  // The check can fail: a name the daemon does not export is reported.
  EXPECT_EQ(Unknown({"moq_stats_level_bytes_total", "moq_stats_no_such_total"}, exported),
            std::vector<std::string>{"moq_stats_no_such_total"});

  // Everything the dashboard (queries and variables) and the rules name.
  const std::set<std::string> in_dashboard = SeriesNamed(text);
  EXPECT_EQ(Unknown(in_dashboard, exported), std::vector<std::string>{}) << "dashboard";
  const std::set<std::string> in_rules = SeriesNamed(ReadText(kPrometheusDir + "/alerts.yml"));
  EXPECT_EQ(Unknown(in_rules, exported), std::vector<std::string>{}) << "alerts.yml";
  // And the dashboard shows the level series at all.
  for (const char* family : {"moq_stats_level_bytes_total", "moq_stats_level_broadcasts_open",
                             "moq_stats_level_subscriptions_open", "moq_stats_levels_unexported"}) {
    EXPECT_EQ(in_dashboard.count(family), 1u) << family;
  }
}

}  // namespace
}  // namespace moq_stats::integration
