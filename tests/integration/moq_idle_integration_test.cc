// End to end: the real daemon's MoQ listener does not let clients that
// subscribe to nothing hold its slots. With --moq-max-sessions=2 and a short
// --moq-idle-timeout, two clients that subscribe to nothing fill the
// listener and a third is refused; once the timeout passes they are closed
// with Timeout, counted in GetInfo, /metrics and `moq-stats info`, and a
// real subscriber gets a slot, reads a level's frames, and keeps its session
// past the timeout while subscribed.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <google/protobuf/struct.pb.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin_bridge/lite/wire.h"
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

constexpr std::chrono::milliseconds kPumpLimit = std::chrono::seconds(10);
constexpr absl::Duration kIdleTimeout = absl::Seconds(1);
// Level "b" of node "sjc" and its external publisher track.
constexpr char kLevelPath[] = ".stats/prefix/b/sjc";
constexpr char kTrack[] = "publisher.json";
constexpr uint64_t kTimeoutCode = static_cast<uint64_t>(lite::ErrorCode::kTimeout);

// Dials ws://127.0.0.1:<port>/ on `io` and runs `io` until the daemon
// either admits the client (its transport parameters arrive) or closes the
// connection (refused). nullptr, with a test failure, when the dial fails.
std::unique_ptr<MoqPeer> ConnectPeer(boost::asio::io_context& io, int port) {
  bridge::DialTarget target;
  target.host = "127.0.0.1";
  target.port = static_cast<uint16_t>(port);
  std::unique_ptr<bridge::Transport> transport;
  bool done = false;
  bridge::AsyncDial(io, target, 5000, [&](absl::StatusOr<std::unique_ptr<bridge::Transport>> t) {
    done = true;
    EXPECT_TRUE(t.ok()) << t.status();
    if (t.ok()) transport = *std::move(t);
  });
  EXPECT_TRUE(RunUntil(
      io, [&] { return done; }, kPumpLimit))
      << "the dial never finished";
  if (!transport) return nullptr;
  auto peer = std::make_unique<MoqPeer>(std::move(transport), qmux::Perspective::kClient);
  peer->Start();
  EXPECT_TRUE(RunUntil(
      io, [&] { return peer->transport_closed() || peer->connection().peer_parameters().has_value(); }, kPumpLimit))
      << "neither admitted nor refused";
  return peer;
}

bool Admitted(MoqPeer& peer) { return !peer.transport_closed() && peer.connection().peer_parameters().has_value(); }

int PortOf(const std::string& listen) {
  int port = 0;
  if (!absl::StartsWith(listen, "127.0.0.1:") || !absl::SimpleAtoi(listen.substr(10), &port)) return 0;
  return port;
}

pb::GetInfoResponse Info(pb::StatsService::Stub& stub) {
  pb::GetInfoResponse info;
  EXPECT_GRPC_OK(GetInfo(stub, &info));
  return info;
}

// The frames of the complete groups of subscription `id`.
size_t FramesReceived(const lite::test::LiteSubscriber& sub, uint64_t id) {
  size_t frames = 0;
  for (const lite::test::LiteSubscriber::ReceivedGroup& group : sub.groups()) {
    if (group.subscribe_id == id && group.complete) frames += group.frames.size();
  }
  return frames;
}

TEST(MoqIdleIntegrationTest, ClientsSubscribingToNothingGiveTheirSlotsToASubscriber) {
  DaemonProcess daemon({"--stats-node=sjc", "--stats-interval=100ms", "--moq-listen=127.0.0.1:0",
                        "--moq-max-sessions=2",
                        absl::StrCat("--moq-idle-timeout=", absl::FormatDuration(kIdleTimeout))});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const int port = PortOf(Info(*stub).bridge().serve().listen());
  ASSERT_GT(port, 0);

  // A relay makes level "b" live: there is something to subscribe to.
  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("idle-relay", nullptr));
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "b/cam", pb::TIER_EXTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 100, 2, 1});
  ASSERT_TRUE(relay.Send(batch));
  ASSERT_GRPC_OK(relay.WaitAck(1));

  // Two clients that subscribe to nothing take both slots; a third is
  // refused (well within the timeout: each takes one handshake).
  boost::asio::io_context io;
  const absl::Time filled_from = absl::Now();
  std::vector<std::unique_ptr<MoqPeer>> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(ConnectPeer(io, port));
    ASSERT_NE(idle.back(), nullptr);
    ASSERT_TRUE(Admitted(*idle.back())) << "filler " << i << " was refused";
  }
  std::unique_ptr<MoqPeer> refused = ConnectPeer(io, port);
  ASSERT_NE(refused, nullptr);
  ASSERT_LT(absl::Now() - filled_from, kIdleTimeout) << "too slow to show the slots full";
  EXPECT_FALSE(Admitted(*refused)) << "a third client got in while two held the slots";
  EXPECT_GE(Info(*stub).bridge().serve().sessions_refused(), 1u);

  // After the timeout both are closed by the daemon with Timeout.
  for (const std::unique_ptr<MoqPeer>& peer : idle) {
    lite::test::LiteSubscriber& sub = peer->subscriber();
    ASSERT_TRUE(RunUntil(
        io, [&] { return sub.closed(); }, kPumpLimit))
        << "an idle client kept its slot";
    EXPECT_TRUE(sub.close_info()->by_peer);
    EXPECT_EQ(sub.close_info()->code, kTimeoutCode);
  }
  EXPECT_GE(absl::Now() - filled_from, kIdleTimeout) << "closed before the timeout";

  // A subscriber gets a slot (bounded retries while the closes complete)
  // and reads level "b".
  std::unique_ptr<MoqPeer> watcher;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (watcher == nullptr || !Admitted(*watcher)) {
    ASSERT_LT(absl::Now(), give_up) << "the subscriber never got a slot";
    watcher = ConnectPeer(io, port);
    ASSERT_NE(watcher, nullptr);
  }
  lite::test::LiteSubscriber& sub = watcher->subscriber();
  absl::StatusOr<uint64_t> id = sub.Subscribe(kLevelPath, kTrack);
  ASSERT_TRUE(id.ok()) << id.status();
  watcher->Flush();
  ASSERT_TRUE(RunUntil(
      io, [&] { return sub.closed() || FramesReceived(sub, *id) > 0; }, kPumpLimit))
      << "no frame of " << kLevelPath;
  ASSERT_FALSE(sub.closed()) << sub.error();

  // Counted in GetInfo and /metrics.
  pb::GetInfoResponse info = Info(*stub);
  EXPECT_EQ(info.bridge().serve().sessions_idle_closed(), 2u) << info.bridge().ShortDebugString();
  std::optional<std::map<std::string, double>> metrics = ScrapeMetrics(daemon.admin_port());
  ASSERT_TRUE(metrics);
  EXPECT_EQ((*metrics)["moq_stats_bridge_serve_sessions_idle_closed_total"], 2.0);
  // And in `moq-stats info --json`.
  cli::test::RunResult json = cli::test::RunCli({"--target=" + daemon.target(), "info", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.description;
  std::optional<google::protobuf::Value> parsed = cli::test::ParseJson(json.out);
  ASSERT_TRUE(parsed) << json.description;
  const google::protobuf::Value* bridge = cli::test::Member(*parsed, "bridge");
  const google::protobuf::Value* serve = bridge ? cli::test::Member(*bridge, "serve") : nullptr;
  const google::protobuf::Value* idle_closed = serve ? cli::test::Member(*serve, "sessions_idle_closed") : nullptr;
  ASSERT_TRUE(idle_closed) << json.description;
  EXPECT_EQ(idle_closed->number_value(), 2) << json.description;

  // Subscribed, it stays past the timeout: frames keep coming (the level
  // ticks every 100 ms while the relay's counts change) and the session
  // is not closed.
  const absl::Time subscribed_until = absl::Now() + 2 * kIdleTimeout;
  uint64_t sequence = 1;
  while (absl::Now() < subscribed_until) {
    pb::Batch more;
    more.set_sequence(++sequence);
    *more.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 10, 1, 0});
    ASSERT_TRUE(relay.Send(more));
    ASSERT_GRPC_OK(relay.WaitAck(sequence));
    const size_t before = FramesReceived(sub, *id);
    ASSERT_TRUE(RunUntil(
        io, [&] { return sub.closed() || FramesReceived(sub, *id) > before; }, kPumpLimit));
    ASSERT_FALSE(sub.closed()) << "the subscribed session was closed: " << sub.error();
  }
  EXPECT_EQ(Info(*stub).bridge().serve().sessions_idle_closed(), 2u);

  EXPECT_GRPC_OK(relay.Close());
  EXPECT_EQ(daemon.Terminate(), 0);
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
