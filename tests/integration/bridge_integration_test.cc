// End to end: the moq-lite bridge of the real daemon, seen from outside. In
// serve mode a MoQ client (the real QMux connection and a moq-lite
// subscriber over WebSocket) receives a level's frames from --moq-listen,
// and /metrics, GetInfo's `bridge` and `moq-stats info --json` report its
// session, subscription and groups; in dial mode a relay that cannot be
// reached shows as reconnects and a last error, with the URL's token never
// shown; and a --moq-listen port already taken stops the daemon at start.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin_bridge/transport/transport.h"
#include "tests/client/test_tools/cli_runner.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::moq_stats::bridge::test::MoqPeer;
using ::moq_stats::bridge::test::RunUntil;
using Metrics = std::map<std::string, double>;

constexpr absl::Duration kWait = absl::Seconds(10);
constexpr std::chrono::milliseconds kPumpLimit = std::chrono::seconds(10);
// The stats broadcast of level "b" on node "sjc", as announced under the
// ".stats" prefix, and its external publisher track.
constexpr char kStatsPrefix[] = ".stats";
constexpr char kLevelPath[] = ".stats/prefix/b/sjc";
constexpr char kLevelSuffix[] = "prefix/b/sjc";
constexpr char kTrack[] = "publisher.json";
constexpr char kSecret[] = "secret123";

// One broadcast at "b/cam", external: a publisher guard, a subscription, 100
// bytes in 2 frames of 1 group.
pb::Batch FirstBatch() {
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "b/cam", pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 100, 2, 1});
  return batch;
}

// The value of the sample `name` (without labels), or nullopt.
std::optional<double> Sample(const Metrics& metrics, const std::string& name) {
  auto it = metrics.find(name);
  if (it == metrics.end()) return std::nullopt;
  return it->second;
}

// The port of "127.0.0.1:<port>"; 0 when `listen` is not that.
int PortOf(const std::string& listen) {
  int port = 0;
  if (!absl::StartsWith(listen, "127.0.0.1:") || !absl::SimpleAtoi(listen.substr(10), &port)) return 0;
  return port;
}

// The /metrics text, or why it could not be had (for failure messages).
std::string MetricsText(int admin_port) {
  absl::StatusOr<HttpResponse> response = HttpGet(admin_port, "/metrics");
  if (!response.ok()) return std::string(response.status().message());
  return response->body;
}

pb::GetInfoResponse Info(pb::StatsService::Stub& stub) {
  pb::GetInfoResponse info;
  EXPECT_GRPC_OK(GetInfo(stub, &info));
  return info;
}

// Polls GetInfo (every 10 ms, at most kWait) until `done(info)` holds; the
// last answer in `*info`.
bool WaitInfo(pb::StatsService::Stub& stub, const std::function<bool(const pb::GetInfoResponse&)>& done,
              pb::GetInfoResponse* info) {
  const absl::Time deadline = absl::Now() + kWait;
  for (;;) {
    *info = pb::GetInfoResponse();
    if (GetInfo(stub, info).ok() && done(*info)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// A MoQ client of the daemon's --moq-listen port, with its own io_context
// run by the test's thread (RunUntil).
class MoqClient {
 public:
  // Dials ws://127.0.0.1:<port>/ and waits for the daemon's transport
  // parameters; nullptr (with a test failure) when that fails.
  static std::unique_ptr<MoqClient> Connect(int port) {
    auto client = std::unique_ptr<MoqClient>(new MoqClient());
    bridge::DialTarget target;
    target.host = "127.0.0.1";
    target.port = static_cast<uint16_t>(port);
    std::unique_ptr<bridge::Transport> transport;
    bool done = false;
    bridge::AsyncDial(client->io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<bridge::Transport>> t) {
      done = true;
      EXPECT_TRUE(t.ok()) << t.status();
      if (t.ok()) transport = *std::move(t);
    });
    EXPECT_TRUE(RunUntil(
        client->io_, [&] { return done; }, kPumpLimit))
        << "the dial never finished";
    if (!transport) return nullptr;
    client->peer_ = std::make_unique<MoqPeer>(std::move(transport), qmux::Perspective::kClient);
    client->peer_->Start();
    // Requests can go out once the daemon's stream credit is known.
    if (!client->Pump([&] { return client->peer_->connection().peer_parameters().has_value(); })) {
      ADD_FAILURE() << "the daemon's transport parameters never came";
      return nullptr;
    }
    return client;
  }

  // Runs the client's io until `done()` holds; false after kPumpLimit.
  bool Pump(const std::function<bool()>& done) { return RunUntil(io_, done, kPumpLimit); }

  MoqPeer& peer() { return *peer_; }
  lite::test::LiteSubscriber& subscriber() { return peer_->subscriber(); }

 private:
  MoqClient() = default;
  // Destroyed after the peer: its transport is bound to the io_context.
  boost::asio::io_context io_;
  std::unique_ptr<MoqPeer> peer_;
};

// The frames of the complete groups of subscription `id`, in arrival order.
std::vector<std::string> Payloads(const lite::test::LiteSubscriber& sub, uint64_t id) {
  std::vector<std::string> out;
  for (const lite::test::LiteSubscriber::ReceivedGroup& group : sub.groups()) {
    if (group.subscribe_id != id || !group.complete) continue;
    for (const lite::Frame& frame : group.frames) out.push_back(frame.payload);
  }
  return out;
}

// Checks a publisher.json frame of level "b" after FirstBatch.
void ExpectFirstBatchFrame(const std::string& payload) {
  SCOPED_TRACE(payload);
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(payload, &json).ok()) << "not JSON";
  const auto& f = json.fields();
  auto text = [&f](const char* name) { return f.count(name) ? f.at(name).string_value() : "<missing>"; };
  auto number = [&f](const char* name) { return f.count(name) ? f.at(name).number_value() : -1.0; };
  EXPECT_EQ(number("v"), 1);
  EXPECT_EQ(text("level"), "b");
  EXPECT_EQ(text("tier"), "external");
  EXPECT_EQ(text("role"), "publisher");
  EXPECT_EQ(text("node"), "sjc");
  EXPECT_EQ(number("broadcasts"), 1);
  EXPECT_EQ(number("broadcasts_closed"), 0);
  EXPECT_EQ(number("subscriptions"), 1);
  EXPECT_EQ(number("subscriptions_closed"), 0);
  EXPECT_EQ(number("bytes"), 100);
  EXPECT_EQ(number("frames"), 2);
  EXPECT_EQ(number("groups"), 1);
}

// Whether GetInfo's bridge and a /metrics scrape show the same status.
::testing::AssertionResult SameStatus(const pb::BridgeInfo& b, const Metrics& m) {
  const std::vector<std::pair<const char*, double>> expected = {
      {"moq_stats_bridge_serve_sessions", double(b.serve().sessions())},
      {"moq_stats_bridge_serve_sessions_total", double(b.serve().sessions_total())},
      {"moq_stats_bridge_serve_sessions_refused_total", double(b.serve().sessions_refused())},
      {"moq_stats_bridge_serve_sessions_idle_closed_total", double(b.serve().sessions_idle_closed())},
      {"moq_stats_bridge_announced_broadcasts", double(b.announced_broadcasts())},
      {"moq_stats_bridge_subscriptions_active", double(b.subscriptions_active())},
      {"moq_stats_bridge_subscriptions_served_total", double(b.subscriptions_served())},
      {"moq_stats_bridge_groups_sent_total", double(b.groups_sent())},
      {"moq_stats_bridge_group_bytes_sent_total", double(b.group_bytes_sent())},
      {"moq_stats_bridge_groups_skipped_total", double(b.groups_skipped())},
  };
  for (const auto& [name, value] : expected) {
    std::optional<double> sample = Sample(m, name);
    if (!sample) return ::testing::AssertionFailure() << name << " is missing from /metrics";
    if (*sample != value) {
      return ::testing::AssertionFailure() << name << " is " << *sample << " in /metrics, " << value << " in GetInfo ("
                                           << b.ShortDebugString() << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(BridgeIntegrationTest, ServeModeDeliversLevelFramesAndReportsTheSession) {
  DaemonProcess daemon({"--stats-node=sjc", "--moq-listen=127.0.0.1:0"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();

  // The port as bound, not the 0 asked for.
  pb::GetInfoResponse info = Info(*stub);
  ASSERT_TRUE(info.has_bridge()) << info.ShortDebugString();
  EXPECT_TRUE(info.bridge().serve().enabled());
  EXPECT_FALSE(info.bridge().dial().enabled());
  EXPECT_EQ(info.bridge().serve().sessions(), 0u);
  const int port = PortOf(info.bridge().serve().listen());
  ASSERT_GT(port, 0) << "serve.listen is " << info.bridge().serve().listen();

  // A relay bumps "b/cam": level "b" goes live.
  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("bridge-relay", nullptr));
  ASSERT_TRUE(relay.Send(FirstBatch()));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "b", &level));
  ASSERT_TRUE(level.publishing());

  std::unique_ptr<MoqClient> client = MoqClient::Connect(port);
  ASSERT_NE(client, nullptr);
  lite::test::LiteSubscriber& sub = client->subscriber();
  absl::StatusOr<uint64_t> announces = sub.RequestAnnounces(kStatsPrefix);
  ASSERT_TRUE(announces.ok()) << announces.status();
  client->peer().Flush();
  auto announced = [&] {
    const lite::test::LiteSubscriber::AnnounceStream* a = sub.announces(*announces);
    return a != nullptr && a->active.count(kLevelSuffix) == 1;
  };
  ASSERT_TRUE(client->Pump([&] { return sub.closed() || announced(); })) << "no announcement of " << kLevelPath;
  ASSERT_FALSE(sub.closed()) << sub.error();

  absl::StatusOr<uint64_t> id = sub.Subscribe(kLevelPath, kTrack);
  ASSERT_TRUE(id.ok()) << id.status();
  client->peer().Flush();
  ASSERT_TRUE(client->Pump([&] { return sub.closed() || !Payloads(sub, *id).empty(); }))
      << "no frame of " << kLevelPath << " " << kTrack;
  ASSERT_FALSE(sub.closed()) << sub.error();
  for (const std::string& payload : Payloads(sub, *id)) ExpectFirstBatchFrame(payload);

  // /metrics: one session, the subscription, the groups sent so far.
  Metrics metrics;
  std::string scrape_error;
  auto serving = [&] {
    std::optional<Metrics> m = ScrapeMetrics(daemon.admin_port(), &scrape_error);
    if (!m) return false;
    metrics = *m;
    return Sample(metrics, "moq_stats_bridge_serve_sessions") == 1.0 &&
           Sample(metrics, "moq_stats_bridge_subscriptions_active").value_or(0) >= 1 &&
           Sample(metrics, "moq_stats_bridge_groups_sent_total").value_or(0) >= 1;
  };
  // Pumping the client's io between scrapes keeps its session read.
  ASSERT_TRUE(client->Pump(serving)) << "last scrape: " << scrape_error << "\n" << MetricsText(daemon.admin_port());
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_serve_sessions_total"), 1.0);
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_serve_sessions_refused_total"), 0.0);
  EXPECT_GE(Sample(metrics, "moq_stats_bridge_subscriptions_served_total").value_or(0), 1);
  // The root level "" and level "b".
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_announced_broadcasts"), 2.0);
  EXPECT_GT(Sample(metrics, "moq_stats_bridge_group_bytes_sent_total").value_or(0), 0);
  EXPECT_GT(Sample(metrics, "moq_stats_bridge_wire_bytes_sent_total").value_or(0), 0);
  EXPECT_GT(Sample(metrics, "moq_stats_bridge_wire_bytes_received_total").value_or(0), 0);
  // Dial mode is off: its series are not written.
  EXPECT_FALSE(Sample(metrics, "moq_stats_bridge_reconnects_total").has_value());

  // GetInfo agrees with /metrics. Nothing changes the counts any more, so
  // the two reads see the same status; the loop only bridges a session
  // update in flight between them.
  ASSERT_TRUE(client->Pump([&] {
    info = Info(*stub);
    std::optional<Metrics> m = ScrapeMetrics(daemon.admin_port());
    return m && SameStatus(info.bridge(), *m);
  })) << info.bridge().ShortDebugString()
      << "\n"
      << MetricsText(daemon.admin_port());
  EXPECT_EQ(info.bridge().serve().sessions(), 1u);
  EXPECT_EQ(info.bridge().serve().listen(), absl::StrCat("127.0.0.1:", port));
  EXPECT_GE(info.bridge().subscriptions_active(), 1u);
  EXPECT_GE(info.bridge().groups_sent(), Payloads(sub, *id).size());

  // moq-stats info --json shows the same bridge.
  cli::test::RunResult json = cli::test::RunCli({"--target=" + daemon.target(), "info", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> parsed = cli::test::ParseJson(json.out);
  ASSERT_TRUE(parsed) << json.description;
  const google::protobuf::Value* bridge = cli::test::Member(*parsed, "bridge");
  ASSERT_TRUE(bridge && bridge->has_struct_value()) << json.description;
  const google::protobuf::Value* serve = cli::test::Member(*bridge, "serve");
  ASSERT_TRUE(serve) << json.description;
  EXPECT_EQ(cli::test::StringMember(*serve, "listen"), absl::StrCat("127.0.0.1:", port)) << json.description;
  ASSERT_TRUE(cli::test::Member(*serve, "enabled")) << json.description;
  EXPECT_TRUE(cli::test::Member(*serve, "enabled")->bool_value()) << json.description;
  ASSERT_TRUE(cli::test::Member(*serve, "sessions")) << json.description;
  EXPECT_EQ(cli::test::Member(*serve, "sessions")->number_value(), 1) << json.description;
  const google::protobuf::Value* groups = cli::test::Member(*bridge, "groups_sent");
  ASSERT_TRUE(groups) << json.description;
  EXPECT_GE(groups->number_value(), 1) << json.description;

  // The client closes its session: the gauges go back to 0, the totals stay.
  client->peer().connection().Close(0, "bye");
  client->peer().Flush();
  ASSERT_TRUE(client->Pump([&] {
    std::optional<Metrics> m = ScrapeMetrics(daemon.admin_port());
    if (m) metrics = *m;
    return m && Sample(metrics, "moq_stats_bridge_serve_sessions") == 0.0;
  })) << "the session never ended\n"
      << MetricsText(daemon.admin_port());
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_subscriptions_active"), 0.0);
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_announced_broadcasts"), 0.0);
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_serve_sessions_total"), 1.0);
  EXPECT_GE(Sample(metrics, "moq_stats_bridge_groups_sent_total").value_or(0), 1);
  info = Info(*stub);
  EXPECT_EQ(info.bridge().serve().sessions(), 0u);
  EXPECT_EQ(info.bridge().serve().sessions_total(), 1u);
  EXPECT_EQ(info.bridge().subscriptions_active(), 0u);
  EXPECT_GE(info.bridge().groups_sent(), 1u);

  EXPECT_GRPC_OK(relay.Close());
  EXPECT_EQ(daemon.Terminate(), 0);
}

// A client that vanishes without a QMux close (its socket dropped) ends its
// session just the same.
TEST(BridgeIntegrationTest, ServeModeSessionEndsWhenTheClientDropsItsConnection) {
  DaemonProcess daemon({"--moq-listen=127.0.0.1:0"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const int port = PortOf(Info(*stub).bridge().serve().listen());
  ASSERT_GT(port, 0);

  std::unique_ptr<MoqClient> client = MoqClient::Connect(port);
  ASSERT_NE(client, nullptr);
  pb::GetInfoResponse info;
  ASSERT_TRUE(WaitInfo(
      *stub, [](const pb::GetInfoResponse& i) { return i.bridge().serve().sessions() == 1; }, &info))
      << info.ShortDebugString();

  client->peer().CloseTransport();
  ASSERT_TRUE(client->Pump([&] { return client->peer().transport_closed(); }));
  ASSERT_TRUE(WaitInfo(
      *stub, [](const pb::GetInfoResponse& i) { return i.bridge().serve().sessions() == 0; }, &info))
      << info.ShortDebugString();
  EXPECT_EQ(info.bridge().serve().sessions_total(), 1u);
  std::optional<Metrics> metrics = ScrapeMetrics(daemon.admin_port());
  ASSERT_TRUE(metrics);
  EXPECT_EQ(Sample(*metrics, "moq_stats_bridge_serve_sessions"), 0.0);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(BridgeIntegrationTest, DialModeReportsReconnectsAndNeverShowsTheToken) {
  // Nothing listens there: every dial is refused.
  const int port = PickFreeLoopbackPort();
  ASSERT_GT(port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const std::string url = absl::StrCat("ws://", address, "/?jwt=", kSecret);
  DaemonProcess daemon({"--origin-url=" + url});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();

  // The backoff starts at 250 ms (full jitter): a few redials come quickly.
  pb::GetInfoResponse info;
  ASSERT_TRUE(WaitInfo(
      *stub, [](const pb::GetInfoResponse& i) { return i.bridge().dial().reconnects() >= 2; }, &info))
      << info.ShortDebugString();
  const uint64_t reconnects = info.bridge().dial().reconnects();
  ASSERT_TRUE(WaitInfo(
      *stub, [&](const pb::GetInfoResponse& i) { return i.bridge().dial().reconnects() > reconnects; }, &info))
      << "reconnects stayed at " << reconnects << ": " << info.ShortDebugString();

  const pb::BridgeInfo::Dial& dial = info.bridge().dial();
  EXPECT_TRUE(dial.enabled());
  EXPECT_FALSE(dial.connected());
  EXPECT_EQ(dial.version(), "");
  EXPECT_EQ(dial.connected_since_unix_ms(), 0);
  EXPECT_TRUE(absl::StrContains(dial.last_error(), address)) << dial.last_error();
  EXPECT_TRUE(absl::StrContains(dial.url(), "jwt=...")) << dial.url();
  EXPECT_EQ(dial.url(), absl::StrCat("ws://", address, "/?jwt=..."));
  EXPECT_FALSE(info.bridge().serve().enabled());
  EXPECT_FALSE(absl::StrContains(info.DebugString(), kSecret)) << info.DebugString();

  // /metrics: not connected, the redials counted, no token anywhere.
  absl::StatusOr<HttpResponse> scrape = HttpGet(daemon.admin_port(), "/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  ASSERT_EQ(scrape->status, 200);
  EXPECT_FALSE(absl::StrContains(scrape->body, kSecret)) << scrape->body;
  Metrics metrics = ParsePrometheus(scrape->body);
  EXPECT_EQ(Sample(metrics, "moq_stats_bridge_connected{version=\"\"}"), 0.0) << scrape->body;
  EXPECT_GE(Sample(metrics, "moq_stats_bridge_reconnects_total").value_or(0), double(reconnects)) << scrape->body;
  EXPECT_FALSE(Sample(metrics, "moq_stats_bridge_serve_sessions").has_value());

  // Nor in `moq-stats info`, text or JSON (which print the config too).
  for (std::vector<std::string> args : {std::vector<std::string>{"info"}, std::vector<std::string>{"info", "--json"}}) {
    args.insert(args.begin(), "--target=" + daemon.target());
    cli::test::RunResult cli = cli::test::RunCli(args);
    ASSERT_EQ(cli.exit_code, 0) << cli.description;
    EXPECT_FALSE(absl::StrContains(cli.out + cli.err, kSecret)) << cli.description;
    EXPECT_TRUE(absl::StrContains(cli.out, "jwt=...")) << cli.description;
  }

  // --check-config prints the settings with the URL redacted.
  CommandResult check = RunSidecarCommand({"--check-config", "--origin-url=" + url}, daemon.dir());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(absl::StrContains(check.out, "configuration OK")) << check.out;
  EXPECT_TRUE(absl::StrContains(check.out, "jwt=...")) << check.out;
  EXPECT_FALSE(absl::StrContains(check.out + check.err, kSecret)) << check.out << check.err;

  EXPECT_EQ(daemon.Terminate(), 0);
  // Nor in the daemon's own log (at debug level), apart from the command
  // line the test tool writes into it.
  std::string log = daemon.Log();
  std::string daemon_lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StartsWith(line, "==== start ")) absl::StrAppend(&daemon_lines, line, "\n");
  }
  EXPECT_FALSE(absl::StrContains(daemon_lines, kSecret)) << daemon_lines;
  EXPECT_TRUE(absl::StrContains(daemon_lines, address)) << daemon_lines;
}

// A listening TCP socket on 127.0.0.1:<some port>, closed when this goes.
class TakenPort {
 public:
  TakenPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(fd_, 1) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~TakenPort() {
    if (fd_ >= 0) close(fd_);
  }
  TakenPort(const TakenPort&) = delete;
  TakenPort& operator=(const TakenPort&) = delete;

  int port() const { return port_; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::string error_ = "no socket";
};

TEST(BridgeIntegrationTest, MoqListenOnATakenPortStopsTheDaemonAtStart) {
  TakenPort taken;
  ASSERT_GT(taken.port(), 0) << taken.error();
  TempDir dir;
  const std::string moq_listen = absl::StrCat("127.0.0.1:", taken.port());
  CommandResult result = RunSidecarCommand(
      {"--listen=unix:" + dir.path() + "/s.sock", absl::StrCat("--admin-listen=127.0.0.1:", PickFreeLoopbackPort()),
       "--moq-listen=" + moq_listen},
      dir.path());
  // -1 would mean it kept running (and was killed at the timeout).
  EXPECT_NE(result.exit_code, -1) << "the daemon kept running\n" << result.out << result.err;
  EXPECT_NE(result.exit_code, 0) << result.out << result.err;
  EXPECT_LT(result.exit_code, 128) << "ended by a signal\n" << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.err + result.out, "--moq-listen")) << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.err + result.out, moq_listen)) << result.out << result.err;
  // It never served: no checkpoint is written (one restored would be kept as
  // it was).
  struct stat st;
  EXPECT_NE(stat((dir.path() + "/moq-stats.checkpoint").c_str(), &st), 0) << "a checkpoint was written";
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
