// End to end: a node broadcast with 100,000 live paths, whose publisher.json
// frame is ~23 MB, through every reader of the real daemon. A MoQ subscriber
// of --moq-listen receives the frame whole (moq-lite frames have no size cap
// below the varint's); a Watch whose channel accepts messages that large
// receives it too, and one left at gRPC's default 4 MiB is ended by its own
// channel with RESOURCE_EXHAUSTED; the admin API's watch (16 MiB held at
// most) ends, and the daemon's log says the frame is over its limit. The
// daemon keeps serving throughout.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "origin_bridge/transport/transport.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/sse_client.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/integration/test_tools/watch_client.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats::integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::moq_stats::bridge::test::MoqPeer;
using ::moq_stats::bridge::test::RunUntil;
using ::testing::HasSubstr;

constexpr uint32_t kPaths = 100000;
constexpr uint32_t kPathsPerBatch = 2000;  // a define and a delta each
constexpr char kNodeBroadcast[] = ".stats/node/big";
constexpr absl::Duration kWait = absl::Seconds(20);
constexpr std::chrono::milliseconds kPumpLimit = std::chrono::seconds(20);
// Above every limit in the way: gRPC's default 4 MiB and the admin watch's
// 16 MiB.
constexpr size_t kOversize = 16 << 20;

// How many paths a publisher.json frame holds: each has "broadcasts":1.
size_t PathsIn(const std::string& frame) {
  size_t n = 0;
  for (size_t at = frame.find("\"broadcasts\":1,"); at != std::string::npos;
       at = frame.find("\"broadcasts\":1,", at + 1)) {
    ++n;
  }
  return n;
}

class NodeOversizeIntegrationTest : public ::testing::Test {
 protected:
  // The daemon publishing the node format only, as node "big", with a relay
  // holding one broadcast on each of kPaths paths.
  void StartHolding(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--stats-format=node", "--stats-node=big", "--max-handles=100000"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<DaemonProcess>(args);
    ASSERT_TRUE(daemon_->Start());
    relay_ = std::make_unique<RelayStream>(daemon_->channel());
    ASSERT_GRPC_OK(relay_->Open("big-relay", nullptr));
    uint64_t sequence = 0;
    for (uint32_t first = 1; first <= kPaths; first += kPathsPerBatch) {
      pb::Batch batch;
      batch.set_sequence(++sequence);
      for (uint32_t h = first; h < first + kPathsPerBatch && h <= kPaths; ++h) {
        *batch.add_defines() =
            MakeDefine(h, absl::StrCat("customer-", h % 97, "/room-", h, "/camera"), pb::TIER_EXTERNAL);
        Bumps bumps;
        bumps.broadcasts_opened = 1;
        bumps.bytes = 1200;
        *batch.add_deltas() = MakeDelta(h, pb::ROLE_PUBLISHER, bumps);
      }
      ASSERT_TRUE(relay_->Send(batch));
    }
    ASSERT_GRPC_OK(relay_->WaitAck(sequence, kWait));
  }

  // The daemon still answers GetInfo and /healthz.
  void ExpectServing() {
    pb::GetInfoResponse info;
    EXPECT_GRPC_OK(GetInfo(*daemon_->NewStub(), &info));
    absl::StatusOr<HttpResponse> health = HttpGet(daemon_->admin_port(), "/healthz");
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(health->status, 200) << health->body;
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<RelayStream> relay_;
};

// The latest publisher.json frame of the node broadcast among `events`.
const pb::Frame* NodeFrame(const WatchClient::Events& events) {
  const pb::Frame* latest = nullptr;
  for (const pb::WatchEvent& e : events) {
    if (e.has_frame() && e.frame().path() == kNodeBroadcast && e.frame().track() == "publisher.json") {
      latest = &e.frame();
    }
  }
  return latest;
}

TEST_F(NodeOversizeIntegrationTest, AWatchWhoseChannelAcceptsLargeMessagesReceivesTheWholeFrame) {
  ASSERT_NO_FATAL_FAILURE(StartHolding());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  WatchClient watch(grpc::CreateCustomChannel(daemon_->target(), grpc::InsecureChannelCredentials(), args),
                    ".stats/node");
  ASSERT_TRUE(watch.WaitFor(
      [](const WatchClient::Events& events) {
        // Ticks while the relay was still defining paths had fewer.
        const pb::Frame* frame = NodeFrame(events);
        return frame != nullptr && PathsIn(frame->payload()) == kPaths;
      },
      kWait));
  EXPECT_GT(NodeFrame(watch.events())->payload().size(), kOversize);
  ExpectServing();
}

TEST_F(NodeOversizeIntegrationTest, AWatchAtGrpcsDefaultLimitIsEndedByItsChannelAndTheDaemonCarriesOn) {
  ASSERT_NO_FATAL_FAILURE(StartHolding());
  WatchClient watch(daemon_->channel(), ".stats/node");
  const grpc::Status end = watch.WaitEnd(kWait);
  EXPECT_EQ(end.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(end);
  EXPECT_THAT(end.error_message(), HasSubstr("larger than max")) << Describe(end);
  ExpectServing();
}

TEST_F(NodeOversizeIntegrationTest, TheAdminWatchEndsAndTheLogNamesTheFrameOverItsLimit) {
  ASSERT_NO_FATAL_FAILURE(StartHolding());
  absl::StatusOr<std::unique_ptr<SseClient>> sse = SseClient::Open(daemon_->admin_port(), "/api/v1/watch");
  ASSERT_TRUE(sse.ok()) << sse.status();
  EXPECT_TRUE((*sse)->WaitEnded(kWait));
  EXPECT_THAT(daemon_->Log(), HasSubstr(absl::StrCat("on ", kNodeBroadcast,
                                                     " publisher.json is larger than a watch may hold (16777216 "
                                                     "bytes)")));
  ExpectServing();
}

TEST_F(NodeOversizeIntegrationTest, AMoqSubscriberReceivesTheWholeFrame) {
  ASSERT_NO_FATAL_FAILURE(StartHolding({"--moq-listen=127.0.0.1:0"}));
  pb::GetInfoResponse info;
  ASSERT_GRPC_OK(GetInfo(*daemon_->NewStub(), &info));
  int port = 0;
  const std::string& listen = info.bridge().serve().listen();
  ASSERT_TRUE(absl::StartsWith(listen, "127.0.0.1:") && absl::SimpleAtoi(listen.substr(10), &port)) << listen;

  boost::asio::io_context io;
  bridge::DialTarget target;
  target.host = "127.0.0.1";
  target.port = static_cast<uint16_t>(port);
  std::unique_ptr<bridge::Transport> transport;
  bool dialed = false;
  bridge::AsyncDial(io, target, 5000, [&](absl::StatusOr<std::unique_ptr<bridge::Transport>> t) {
    dialed = true;
    ASSERT_TRUE(t.ok()) << t.status();
    transport = *std::move(t);
  });
  ASSERT_TRUE(RunUntil(
      io, [&] { return dialed; }, kPumpLimit));
  ASSERT_NE(transport, nullptr);
  // The test subscriber refuses frames over 16 MiB unless told otherwise
  // (moq's relays take up to 32 MiB).
  MoqPeer peer(std::move(transport), qmux::Perspective::kClient, lite::Version::kLite05, nullptr, size_t{32} << 20);
  peer.Start();
  ASSERT_TRUE(RunUntil(
      io, [&] { return peer.connection().peer_parameters().has_value(); }, kPumpLimit));
  lite::test::LiteSubscriber& sub = peer.subscriber();
  absl::StatusOr<uint64_t> id = sub.Subscribe(kNodeBroadcast, "publisher.json");
  ASSERT_TRUE(id.ok()) << id.status();
  peer.Flush();
  // Each complete group of the subscription is looked at once: the frame
  // of all kPaths paths (ticks while the relay was still defining paths
  // had fewer) ends the wait.
  size_t looked_at = 0;
  size_t largest = 0;
  bool whole = false;
  auto arrived = [&] {
    const auto& groups = sub.groups();
    for (; looked_at < groups.size(); ++looked_at) {
      const auto& group = groups[looked_at];
      if (group.subscribe_id != *id) continue;
      if (!group.complete) break;
      for (const lite::Frame& frame : group.frames) {
        largest = std::max(largest, frame.payload.size());
        whole = whole || PathsIn(frame.payload) == kPaths;
      }
    }
    return sub.closed() || whole;
  };
  ASSERT_TRUE(RunUntil(io, arrived, kPumpLimit))
      << "no frame of every path came; the largest had " << largest << " bytes";
  ASSERT_FALSE(sub.closed()) << sub.error();
  EXPECT_GT(largest, kOversize);
  ExpectServing();
}

}  // namespace
}  // namespace moq_stats::integration
