// End to end: Watch delivers each level's frames exactly as the publishers
// wrote them (compact JSON, fields in order), in order, and a watcher that
// comes late gets the latest frame of each track first.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"
#include "tests/integration/test_tools/watch_client.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;

constexpr absl::Duration kWait = absl::Seconds(10);
constexpr char kLevelPath[] = ".stats/prefix/w/sjc";
constexpr char kRootPath[] = ".stats/prefix/sjc";

struct TrackInfo {
  pb::Tier tier;
  pb::Role role;
  const char* tier_name;
  const char* role_name;
};
const std::map<std::string, TrackInfo> kTracks = {
    {"publisher.json", {pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER, "external", "publisher"}},
    {"subscriber.json", {pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER, "external", "subscriber"}},
    {"internal/publisher.json", {pb::TIER_INTERNAL, pb::ROLE_PUBLISHER, "internal", "publisher"}},
    {"internal/subscriber.json", {pb::TIER_INTERNAL, pb::ROLE_SUBSCRIBER, "internal", "subscriber"}},
};

// A frame parsed as JSON, its counters, and whether its bytes are exactly the
// compact JSON the publisher writes (fields v, level, tier, role, node,
// ts_ms, then the seven counters, in that order).
struct ParsedFrame {
  bool json = false;
  bool exact = false;
  std::string level, tier, role, node;
  int64_t ts_ms = 0;
  pb::Snapshot snapshot;
  std::string error;
};

ParsedFrame Parse(const std::string& payload) {
  ParsedFrame out;
  google::protobuf::Struct json;
  auto status = google::protobuf::util::JsonStringToMessage(payload, &json);
  if (!status.ok()) {
    out.error = std::string(status.message());
    return out;
  }
  out.json = true;
  const auto& f = json.fields();
  auto text = [&f](const char* name) { return f.count(name) ? f.at(name).string_value() : std::string(); };
  auto number = [&f](const char* name) -> uint64_t {
    return f.count(name) ? static_cast<uint64_t>(f.at(name).number_value()) : 0;
  };
  out.level = text("level");
  out.tier = text("tier");
  out.role = text("role");
  out.node = text("node");
  out.ts_ms = static_cast<int64_t>(number("ts_ms"));
  out.snapshot = MakeSnapshot(number("broadcasts"), number("broadcasts_closed"), number("subscriptions"),
                              number("subscriptions_closed"), number("bytes"), number("frames"), number("groups"));
  const pb::Snapshot& s = out.snapshot;
  std::string expected =
      absl::StrCat("{\"v\":1,\"level\":\"", out.level, "\",\"tier\":\"", out.tier, "\",\"role\":\"", out.role,
                   "\",\"node\":\"", out.node, "\",\"ts_ms\":", out.ts_ms, ",\"broadcasts\":", s.broadcasts(),
                   ",\"broadcasts_closed\":", s.broadcasts_closed(), ",\"subscriptions\":", s.subscriptions(),
                   ",\"subscriptions_closed\":", s.subscriptions_closed(), ",\"bytes\":", s.bytes(),
                   ",\"frames\":", s.frames(), ",\"groups\":", s.groups(), "}");
  out.exact = payload == expected && f.size() == 13 && f.count("v") && f.at("v").number_value() == 1;
  if (!out.exact) out.error = "expected " + expected;
  return out;
}

// The latest frame of each track of `path` in `events`.
std::map<std::string, pb::Frame> LatestFrames(const WatchClient::Events& events, const std::string& path) {
  std::map<std::string, pb::Frame> latest;
  for (const pb::Frame& frame : HistoryOf(events, path).frames) latest[frame.track()] = frame;
  return latest;
}

// True when the latest frame of every track of `path` shows `level`'s counts.
bool ShowsLevel(const WatchClient::Events& events, const std::string& path, const pb::Level& level) {
  std::map<std::string, pb::Frame> latest = LatestFrames(events, path);
  if (latest.size() != kTracks.size()) return false;
  for (const auto& [track, frame] : latest) {
    const TrackInfo& info = kTracks.at(track);
    if (!SnapshotEq(Parse(frame.payload()).snapshot, SnapshotOf(level, info.tier, info.role))) return false;
  }
  return true;
}

pb::Batch FirstBatch() {
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "w/cam", pb::TIER_EXTERNAL);
  *batch.add_defines() = MakeDefine(2, "w/cam", pb::TIER_INTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 1, 0, 100, 2, 1});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {1, 0, 2, 0, 7, 1, 0});
  return batch;
}

// Checks every frame of `path` in `events`: the publisher's exact JSON, on
// the track of its (tier, role), for level `key`, stamped between
// `started_ms` and now, and -- after the first, which is the latest at
// subscription time -- every group in sequence order without a gap.
void ExpectFramesAsPublished(const WatchClient::Events& events, const std::string& path, const std::string& key,
                             int64_t started_ms) {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  BroadcastHistory history = HistoryOf(events, path);
  EXPECT_TRUE(history.announced) << path;
  EXPECT_FALSE(history.ended) << path;
  std::map<std::string, uint64_t> next_sequence;
  for (const pb::Frame& frame : history.frames) {
    SCOPED_TRACE(absl::StrCat(path, " ", frame.track(), " #", frame.sequence(), ": ", frame.payload()));
    ASSERT_TRUE(kTracks.count(frame.track()));
    const TrackInfo& info = kTracks.at(frame.track());
    ParsedFrame parsed = Parse(frame.payload());
    ASSERT_TRUE(parsed.json) << parsed.error;
    EXPECT_TRUE(parsed.exact) << parsed.error;
    EXPECT_EQ(parsed.level, key);
    EXPECT_EQ(parsed.tier, info.tier_name);
    EXPECT_EQ(parsed.role, info.role_name);
    EXPECT_EQ(parsed.node, "sjc");
    EXPECT_GE(parsed.ts_ms, started_ms - 1000);
    EXPECT_LE(parsed.ts_ms, now_ms + 1000);
    auto next = next_sequence.find(frame.track());
    if (next != next_sequence.end()) {
      EXPECT_EQ(frame.sequence(), next->second);
    }
    next_sequence[frame.track()] = frame.sequence() + 1;
  }
  EXPECT_EQ(next_sequence.size(), kTracks.size()) << path;
}

TEST(WatchIntegrationTest, FramesArriveAsPublishedJsonInOrderAndLatestFirstForALateWatcher) {
  DaemonProcess daemon({"--stats-node=sjc"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  const int64_t started_ms = absl::ToUnixMillis(absl::Now());

  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("watch-relay", nullptr));
  ASSERT_TRUE(relay.Send(FirstBatch()));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "w", &level));
  ASSERT_TRUE(level.publishing());
  // Watchers connect once both broadcasts ("" and "w") wrote their first
  // frames; one connected before a broadcast starts is the next test.
  ASSERT_TRUE(WaitForCounter(*stub, "moq_stats_frames_written_total", 8));
  WatchClient first(daemon.channel(), ".stats");
  ASSERT_TRUE(first.WaitFor([&](const WatchClient::Events& e) { return ShowsLevel(e, kLevelPath, level); }, kWait))
      << "the watcher never saw the level's counts; " << Summarize(first.events());

  // Then only the external publisher changes.
  pb::Batch second;
  second.set_sequence(2);
  *second.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 50, 1, 0});
  ASSERT_TRUE(relay.Send(second));
  ASSERT_GRPC_OK(relay.WaitAck(2));
  ASSERT_GRPC_OK(GetLevel(*stub, "w", &level));
  EXPECT_EQ(level.external_publisher().bytes(), 150u);
  ASSERT_TRUE(first.WaitFor([&](const WatchClient::Events& e) { return ShowsLevel(e, kLevelPath, level); }, kWait))
      << "the watcher never saw the second batch; " << Summarize(first.events());
  pb::Level root;
  ASSERT_GRPC_OK(GetLevel(*stub, "", &root));
  ASSERT_TRUE(first.WaitFor([&](const WatchClient::Events& e) { return ShowsLevel(e, kRootPath, root); }, kWait))
      << Summarize(first.events());

  const WatchClient::Events events = first.events();
  ExpectFramesAsPublished(events, kLevelPath, "w", started_ms);
  ExpectFramesAsPublished(events, kRootPath, "", started_ms);
  // The external publisher track of "w" changed after the frame the watcher
  // got first (the second batch); the internal publisher never did.
  const std::map<std::string, pb::Frame> latest = LatestFrames(events, kLevelPath);
  EXPECT_GE(latest.at("publisher.json").sequence(), 1u);
  EXPECT_EQ(latest.at("internal/publisher.json").sequence(), 0u);

  // A late watcher under the level's prefix: the announcement, then the
  // latest frame of each track first, byte for byte the one published.
  WatchClient late(daemon.channel(), ".stats/prefix/w");
  ASSERT_TRUE(late.WaitFor(
      [](const WatchClient::Events& e) { return LatestFrames(e, kLevelPath).size() == kTracks.size(); }, kWait))
      << Summarize(late.events());
  const WatchClient::Events late_events = late.events();
  ASSERT_FALSE(late_events.empty());
  ASSERT_TRUE(late_events[0].has_announce()) << late_events[0].ShortDebugString();
  EXPECT_EQ(late_events[0].announce().path(), kLevelPath);
  EXPECT_TRUE(late_events[0].announce().active());
  std::map<std::string, pb::Frame> first_late;
  for (const pb::WatchEvent& event : late_events) {
    EXPECT_TRUE(
        absl::StartsWith(event.has_frame() ? event.frame().path() : event.announce().path(), ".stats/prefix/w/"))
        << event.ShortDebugString();
    if (event.has_frame()) first_late.emplace(event.frame().track(), event.frame());
  }
  for (const auto& [track, frame] : first_late) {
    EXPECT_EQ(frame.sequence(), latest.at(track).sequence()) << track;
    EXPECT_EQ(frame.payload(), latest.at(track).payload()) << track;
  }
  EXPECT_GRPC_OK(relay.Close());
}

// Regression test; it once exposed this, now fixed: a watcher connected before a stats broadcast starts gets its
// announcement but never one of its frames. LevelPublisher::Announce
// (server/level_publisher.cc) calls Origin::Publish, which notifies the
// announcement consumers synchronously, before it creates the four tracks;
// WatchStream::CollectLocked (server/watch_stream.cc) subscribes to the
// tracks right then, gets NOT_FOUND for each and skips them for good ("the
// broadcast may already have ended"). Only broadcasts already running when
// Watch is called deliver frames.
TEST(WatchIntegrationTest, WatcherConnectedBeforeABroadcastStartsGetsItsFrames) {
  DaemonProcess daemon({"--stats-node=sjc"});
  ASSERT_TRUE(daemon.Start());
  auto stub = daemon.NewStub();
  WatchClient early(daemon.channel(), ".stats");

  RelayStream relay(daemon.channel());
  ASSERT_GRPC_OK(relay.Open("watch-relay", nullptr));
  ASSERT_TRUE(relay.Send(FirstBatch()));
  ASSERT_GRPC_OK(relay.WaitAck(1));
  pb::Level level;
  ASSERT_GRPC_OK(GetLevel(*stub, "w", &level));
  ASSERT_TRUE(early.WaitFor([](const WatchClient::Events& e) { return HistoryOf(e, kLevelPath).announced; }, kWait))
      << "no announcement of " << kLevelPath << "; " << Summarize(early.events());
  EXPECT_TRUE(
      early.WaitFor([&](const WatchClient::Events& e) { return ShowsLevel(e, kLevelPath, level); }, absl::Seconds(5)))
      << "the broadcast was announced but none of its frames came; " << Summarize(early.events());
  EXPECT_GRPC_OK(relay.Close());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
