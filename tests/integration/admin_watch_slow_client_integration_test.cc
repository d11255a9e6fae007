// End to end: Server-Sent Event clients of /api/v1/watch that stop reading
// cost the daemon a bounded amount of memory while 1,000 levels change under
// them (each stream coalesces to the latest frame per track), and a client
// that reads still gets each level's latest counts.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/process_usage.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/sse_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

constexpr int kLevels = 1000;
constexpr int kUnreadClients = 8;
// Each unread client's receive window: it fills at once.
constexpr int kReceiveBuffer = 4096;
// Bump rounds over every level, bounded in count and time.
constexpr int kMaxRounds = 60;
constexpr absl::Duration kRoundsFor = absl::Seconds(12);
constexpr absl::Duration kRoundPause = absl::Milliseconds(150);  // over the 100 ms stats interval
// The daemon's resident memory may exceed what it held before the clients
// came by at most this at any sample, and may grow at most kLateGrowthKib
// over the last three quarters of the rounds. Measured: about 39 MiB, 4.8 MiB
// per client (each follows the 1,000 broadcasts and holds their latest
// frames), flat after the first rounds.
constexpr uint64_t kGrowthCeilingKib = 64 * 1024;
constexpr uint64_t kLateGrowthKib = 6 * 1024;

std::string LevelPath(int i) { return absl::StrFormat("l%04d", i); }

uint64_t Rss(const DaemonProcess& daemon) { return ResidentKib(daemon.pid()).value_or(0); }

// The publisher bytes of level `level` in a frame record, or -1.
double PublisherBytes(const google::protobuf::Struct& record, const std::string& level) {
  if (!record.fields().contains("frame")) return -1;
  const auto& payload = record.fields().at("frame").struct_value().fields().at("payload").struct_value().fields();
  if (payload.at("level").string_value() != level || payload.at("role").string_value() != "publisher") return -1;
  return payload.at("bytes").number_value();
}

TEST(AdminWatchSlowClientIntegrationTest, UnreadClientsStayBoundedAndAReaderGetsTheLatestCounts) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());

  RelayStream relay(daemon.channel(), absl::Minutes(5));
  ASSERT_GRPC_OK(relay.Open("slow-client-relay", nullptr));
  uint64_t sequence = 0;
  pb::Batch defines;
  defines.set_sequence(++sequence);
  for (int i = 0; i < kLevels; ++i) {
    *defines.add_defines() = MakeDefine(i + 1, LevelPath(i), pb::TIER_EXTERNAL);
    // An open subscription keeps every level publishing.
    *defines.add_deltas() = MakeDelta(i + 1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 0, 0, 0});
  }
  ASSERT_TRUE(relay.Send(defines));
  ASSERT_GRPC_OK(relay.WaitAck(sequence, absl::Seconds(10)));
  absl::SleepFor(kRoundPause);  // the levels' first frames
  const uint64_t rss_before = Rss(daemon);

  std::vector<std::unique_ptr<SseClient>> unread;
  for (int i = 0; i < kUnreadClients; ++i) {
    absl::StatusOr<std::unique_ptr<SseClient>> client =
        SseClient::OpenUnread(daemon.admin_port(), "/api/v1/watch", kReceiveBuffer);
    ASSERT_TRUE(client.ok()) << client.status();
    unread.push_back(*std::move(client));
  }

  std::vector<uint64_t> rss_samples;
  int rounds = 0;
  const absl::Time start = absl::Now();
  while (rounds < kMaxRounds && absl::Now() - start < kRoundsFor) {
    pb::Batch batch;
    batch.set_sequence(++sequence);
    for (int i = 0; i < kLevels; ++i)
      *batch.add_deltas() = MakeDelta(i + 1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 100, 1, 1});
    ASSERT_TRUE(relay.Send(batch));
    ASSERT_GRPC_OK(relay.WaitAck(sequence, absl::Seconds(10)));
    ++rounds;
    absl::SleepFor(kRoundPause);
    rss_samples.push_back(Rss(daemon));
  }
  ASSERT_GE(rounds, 10) << "too few rounds to say anything";
  const uint64_t rss_peak = *std::max_element(rss_samples.begin(), rss_samples.end());
  std::cout << "[ measure  ] " << rounds << " rounds over " << kLevels << " levels with " << kUnreadClients
            << " unread SSE clients: RSS before them " << rss_before << " KiB, peak " << rss_peak << " KiB, last "
            << rss_samples.back()
            << " KiB: " << (static_cast<int64_t>(rss_peak) - static_cast<int64_t>(rss_before)) / kUnreadClients
            << " KiB per unread client at the peak\n";
  EXPECT_LE(rss_peak, rss_before + kGrowthCeilingKib);
  const uint64_t rss_quarter = rss_samples[rss_samples.size() / 4];
  EXPECT_LE(rss_samples.back(), rss_quarter + kLateGrowthKib)
      << "RSS kept growing: " << rss_quarter << " KiB after " << rss_samples.size() / 4 << " rounds, "
      << rss_samples.back() << " KiB after " << rounds;

  // A client that reads gets every level's latest counts, the unread ones
  // notwithstanding.
  absl::StatusOr<std::unique_ptr<SseClient>> reader = SseClient::Open(daemon.admin_port(), "/api/v1/watch");
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->status(), 200);
  const double expected = 100.0 * rounds;
  const std::string watched = LevelPath(kLevels - 1);
  EXPECT_TRUE((*reader)->WaitForRecord(
      [&](const google::protobuf::Struct& r) { return PublisherBytes(r, watched) == expected; }, absl::Seconds(20)))
      << "no frame of " << watched << " with " << expected << " bytes";
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
