// PublisherSession: stream-credit and queued-byte backpressure keep only
// the newest group per subscription and serve subscriptions in turn.

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

namespace moq_stats::lite::test {
namespace {

using lite::Version;

std::string SubscribeStream(uint64_t id, std::string broadcast) {
  lite::Subscribe s;
  s.id = id;
  s.broadcast = std::move(broadcast);
  s.track = "t";
  return ControlStream(lite::ControlStreamType::kSubscribe, Encode(s, Version::kLite04));
}

// "subscribe id:sequence" of each group stream written, in open order.
std::vector<std::string> SentGroups(const PublisherHarness& h) {
  std::vector<std::string> out;
  for (uint64_t id : h.GroupStreams()) {
    const std::string bytes = h.mux.written(id);
    out.push_back(std::to_string(static_cast<int>(bytes[2])) + ":" + std::to_string(static_cast<int>(bytes[3])));
  }
  return out;
}

TEST(PublisherFlowControlTest, CreditExhaustionKeepsOnlyTheLatestGroup) {
  PublisherHarness h(Version::kLite04);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.mux.set_uni_credit(0);
  h.Open(SubscribeStream(0, "b"));
  for (int i = 0; i < 5; ++i) t->WriteFrame("g" + std::to_string(i));
  h.session->Poll();
  EXPECT_TRUE(h.GroupStreams().empty());
  EXPECT_EQ(h.session->counters().groups_skipped, 4u);
  h.mux.GrantUni(10);
  EXPECT_EQ(SentGroups(h), (std::vector<std::string>{"0:4"}));
  // Live again once credit is back.
  t->WriteFrame("g5");
  h.session->Poll();
  EXPECT_EQ(SentGroups(h), (std::vector<std::string>{"0:4", "0:5"}));
}

TEST(PublisherFlowControlTest, HeldGroupsGoOutRoundRobin) {
  PublisherHarness h(Version::kLite04);
  TrackProducer* a = h.Publish("a", {"t"})->track("t");
  TrackProducer* b = h.Publish("b", {"t"})->track("t");
  h.mux.set_uni_credit(0);
  h.Open(SubscribeStream(0, "a"));
  h.Open(SubscribeStream(1, "b"));
  a->WriteFrame("a0");
  b->WriteFrame("b0");
  h.session->Poll();
  // One stream of credit at a time: a, then b, then a's newer group.
  h.mux.GrantUni(1);
  a->WriteFrame("a1");
  h.session->Poll();
  h.mux.GrantUni(1);
  h.mux.GrantUni(1);
  EXPECT_EQ(SentGroups(h), (std::vector<std::string>{"0:0", "1:0", "0:1"}));
}

TEST(PublisherFlowControlTest, QueuedBytesAboveTheLimitHoldGroups) {
  lite::PublisherOptions options = PublisherHarness::DefaultOptions();
  options.max_queued_bytes = 1000;
  PublisherHarness h(Version::kLite04, options);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.Open(SubscribeStream(0, "b"));
  h.mux.set_queued_bytes(5000);
  t->WriteFrame("g0");
  t->WriteFrame("g1");
  h.session->Poll();
  EXPECT_TRUE(h.GroupStreams().empty());
  h.mux.set_queued_bytes(0);
  h.session->Poll();  // The owner polls again once the mux drained.
  EXPECT_EQ(SentGroups(h), (std::vector<std::string>{"0:1"}));
  EXPECT_EQ(h.session->counters().groups_skipped, 1u);
}

TEST(PublisherFlowControlTest, UnsubscribeWhileHeldSendsNothingLater) {
  PublisherHarness h(Version::kLite04);
  TrackProducer* t = h.Publish("b", {"t"})->track("t");
  h.mux.set_uni_credit(0);
  const uint64_t id = h.Open(SubscribeStream(0, "b"));
  t->WriteFrame("g0");
  h.session->Poll();
  h.mux.PeerSend(id, "", true);
  h.mux.GrantUni(5);
  EXPECT_TRUE(h.GroupStreams().empty());
}

TEST(PublisherFlowControlTest, PollVisitsOnlyNotifiedSubscriptions) {
  PublisherHarness h(Version::kLite04);
  std::vector<TrackProducer*> tracks;
  for (int i = 0; i < 50; ++i) {
    const std::string name = "b" + std::to_string(i);
    tracks.push_back(h.Publish(name, {"t"})->track("t"));
    h.Open(SubscribeStream(i, name));
  }
  const int wakes = h.wakes.load();
  tracks[17]->WriteFrame("x");
  EXPECT_EQ(h.wakes.load(), wakes + 1);
  tracks[18]->WriteFrame("y");  // Already awake: no second wake.
  EXPECT_EQ(h.wakes.load(), wakes + 1);
  h.session->Poll();
  EXPECT_EQ(SentGroups(h), (std::vector<std::string>{"17:0", "18:0"}));
}

}  // namespace
}  // namespace moq_stats::lite::test
