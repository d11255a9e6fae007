// PublisherSession against the test LiteSubscriber over two joined
// FakeStreamMux ends: the full request/response cycle for each version.

#include <string>

#include "gtest/gtest.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/fake_stream_mux.h"
#include "tests/origin_bridge/lite/test_tools/lite_subscriber.h"

namespace moq_stats::lite::test {
namespace {

using lite::Version;

class PairTest : public ::testing::TestWithParam<Version> {
 protected:
  PairTest()
      : publisher_mux_(/*is_server=*/false),
        subscriber_mux_(/*is_server=*/true),
        subscriber_({GetParam(), 99}, &subscriber_mux_) {
    lite::PublisherOptions options;
    options.version = GetParam();
    options.origin_id = 5;
    session_ = std::make_unique<lite::PublisherSession>(options, &publisher_mux_, &origin_, [] {});
    publisher_mux_.set_events(session_.get());
    subscriber_mux_.set_events(&subscriber_);
    session_->Start();
    EXPECT_TRUE(subscriber_.Start().ok());
  }
  ~PairTest() override {
    publisher_mux_.set_events(nullptr);
    subscriber_mux_.set_events(nullptr);
  }

  void Run() {
    for (int i = 0; i < 10; ++i) {
      session_->Poll();
      ASSERT_TRUE(Pump(publisher_mux_, subscriber_mux_));
    }
  }

  Origin origin_;
  FakeStreamMux publisher_mux_;
  FakeStreamMux subscriber_mux_;
  LiteSubscriber subscriber_;
  std::unique_ptr<lite::PublisherSession> session_;
};

TEST_P(PairTest, AnnouncesSubscribesAndReceivesGroups) {
  auto producer = origin_.Publish(Path("room/cam"), {"video"});
  ASSERT_TRUE(producer.ok());
  TrackProducer* track = (*producer)->track("video");
  track->WriteFrame("f0");
  track->WriteFrame("f1");

  const uint64_t announces = *subscriber_.RequestAnnounces("room");
  const uint64_t sub = *subscriber_.Subscribe("room/cam", "video");
  Run();
  track->WriteFrame("f2");
  Run();

  const LiteSubscriber::AnnounceStream* a = subscriber_.announces(announces);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->active, (std::set<std::string>{"cam"}));
  EXPECT_EQ(a->ok.has_value(), GetParam() == Version::kLite05);
  EXPECT_EQ(subscriber_.Received(sub), (std::vector<std::string>{"1:f1", "2:f2"}));
  if (GetParam() == Version::kLite05) {
    ASSERT_TRUE(subscriber_.peer_setup().has_value());
    EXPECT_EQ(subscriber_.peer_setup()->VarintValue(lite::kSetupParameterOrigin), 5u);
  }
  EXPECT_FALSE(subscriber_.closed());
  EXPECT_FALSE(session_->closed());

  producer->reset();
  Run();
  EXPECT_TRUE(a->active.empty());
  EXPECT_TRUE(subscriber_.subscription(sub)->finished);
}

TEST_P(PairTest, UnsubscribeStopsGroups) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  ASSERT_TRUE(producer.ok());
  TrackProducer* track = (*producer)->track("t");
  const uint64_t sub = *subscriber_.Subscribe("b", "t");
  track->WriteFrame("x");
  Run();
  ASSERT_TRUE(subscriber_.Unsubscribe(sub).ok());
  Run();
  track->WriteFrame("y");
  Run();
  EXPECT_EQ(subscriber_.Received(sub), (std::vector<std::string>{"0:x"}));
  EXPECT_TRUE(subscriber_.subscription(sub)->finished);
  EXPECT_EQ(session_->counters().subscriptions_active, 0u);
}

TEST_P(PairTest, RefusalIsSeenAsResetUnroutable) {
  const uint64_t sub = *subscriber_.Subscribe("missing", "t");
  Run();
  EXPECT_EQ(subscriber_.subscription(sub)->reset_code, static_cast<uint64_t>(lite::ErrorCode::kUnroutable));
}

INSTANTIATE_TEST_SUITE_P(Versions, PairTest, ::testing::Values(Version::kLite03, Version::kLite04, Version::kLite05));

TEST(PairLite05Test, TrackInfoAndFetch) {
  Origin origin;
  FakeStreamMux publisher_mux(false), subscriber_mux(true);
  LiteSubscriber subscriber({Version::kLite05, 0}, &subscriber_mux);
  lite::PublisherOptions options;
  lite::PublisherSession session(options, &publisher_mux, &origin, [] {});
  publisher_mux.set_events(&session);
  subscriber_mux.set_events(&subscriber);
  session.Start();
  auto producer = origin.Publish(Path("b"), {"t"});
  ASSERT_TRUE(producer.ok());
  (*producer)->track("t")->WriteFrame("only");
  const uint64_t info = *subscriber.RequestTrackInfo("b", "t");
  const uint64_t fetch = *subscriber.Fetch("b", "t", 0);
  ASSERT_TRUE(Pump(publisher_mux, subscriber_mux));
  ASSERT_TRUE(subscriber.track_request(info)->info.has_value());
  EXPECT_EQ(subscriber.track_request(info)->info->max_latency_ms, 5000u);
  EXPECT_EQ(subscriber.track_request(info)->info->timescale, 1000u);
  EXPECT_TRUE(subscriber.track_request(info)->finished);
  ASSERT_EQ(subscriber.fetch(fetch)->frames.size(), 1u);
  EXPECT_EQ(subscriber.fetch(fetch)->frames[0].payload, "only");
  EXPECT_TRUE(subscriber.fetch(fetch)->finished);
  publisher_mux.set_events(nullptr);
  subscriber_mux.set_events(nullptr);
}

}  // namespace
}  // namespace moq_stats::lite::test
