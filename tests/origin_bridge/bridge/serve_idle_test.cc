// Serve mode's idle timeout over loopback, with simulated time: a session
// that holds no live subscription for the timeout is closed with Timeout
// and counted; a subscribed session is kept however long; the idle time
// starts again when a session's last subscription ends.
//
// The bridge reads the simulated clock and keeps its idle deadlines on the
// simulated scheduler, so time moves only when the test advances it.
// After an advance, a new client's handshake is the barrier: a sweep the
// advance posted runs on the bridge's thread before that client is accepted.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "origin_bridge/bridge/origin_bridge.h"
#include "origin_bridge/lite/wire.h"
#include "tests/common/test_tools/simulated_time.h"
#include "tests/origin_bridge/bridge/test_tools/bridge_fixture.h"
#include "tests/origin_bridge/bridge/test_tools/moq_peer.h"
#include "tests/origin_bridge/transport/test_tools/io_pump.h"

namespace moq_stats::bridge {
namespace {

using test::MoqPeer;
using test::RunUntil;

constexpr absl::Duration kTimeout = absl::Seconds(60);
constexpr uint64_t kTimeoutCode = static_cast<uint64_t>(lite::ErrorCode::kTimeout);

class ServeIdleTest : public test::BridgeFixture {
 protected:
  // The bridge stops before time_, whose scheduler it uses, goes.
  void TearDown() override {
    if (bridge_) StopBridge();
  }

  void StartBridge(absl::Duration idle_timeout = kTimeout) {
    BridgeOptions options;
    options.moq_listen = ListenAddress{"127.0.0.1", 0};
    options.serve_idle_timeout = idle_timeout;
    options.clock = &time_.clock();
    options.scheduler = &time_.scheduler();
    ASSERT_NO_FATAL_FAILURE(StartBridgeWith(options));
  }

  // Connects a client and waits until the bridge counts `sessions` sessions
  // and, with a timeout, has put the client's idle deadline on the
  // scheduler.
  std::unique_ptr<MoqPeer> Connect(uint64_t sessions) {
    DialTarget target;
    target.host = "127.0.0.1";
    target.port = bridge_->serve_port();
    std::unique_ptr<Transport> transport;
    bool done = false;
    AsyncDial(io_, target, 5000, [&](absl::StatusOr<std::unique_ptr<Transport>> t) {
      done = true;
      EXPECT_TRUE(t.ok()) << t.status();
      if (t.ok()) transport = *std::move(t);
    });
    EXPECT_TRUE(RunUntil(io_, [&] { return done; }));
    if (!transport) return nullptr;
    auto peer = std::make_unique<MoqPeer>(std::move(transport), qmux::Perspective::kClient, lite::Version::kLite05);
    peer->Start();
    EXPECT_TRUE(RunUntil(io_, [&] { return peer->connection().peer_parameters().has_value(); }));
    EXPECT_TRUE(WaitStatus([&](const BridgeStatus& s) { return s.serve.sessions == sessions; }));
    return peer;
  }

  // Waits until the bridge has closed `peer` for idleness.
  void ExpectClosedForIdleness(MoqPeer& peer) {
    lite::test::LiteSubscriber& sub = peer.subscriber();
    ASSERT_TRUE(RunUntil(io_, [&] { return sub.closed(); })) << "the idle session stayed open";
    EXPECT_TRUE(sub.close_info()->by_peer);
    EXPECT_TRUE(sub.close_info()->application);
    EXPECT_EQ(sub.close_info()->code, kTimeoutCode);
    EXPECT_EQ(sub.close_info()->reason, "idle: no subscription");
  }

  uint64_t IdleClosed() const { return bridge_->status().serve.sessions_idle_closed; }

  ::moq_stats::test::SimulatedTime time_;
};

TEST_F(ServeIdleTest, SessionWithoutSubscriptionIsClosedAtTheTimeoutNotBefore) {
  StartBridge();
  const absl::Time start = time_.Now();
  std::unique_ptr<MoqPeer> idle = Connect(1);
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(RunUntil(io_, [&] { return time_.scheduler().NextDeadline().has_value(); }));
  EXPECT_EQ(*time_.scheduler().NextDeadline(), start + kTimeout);

  time_.Advance(kTimeout - absl::Milliseconds(1));
  std::unique_ptr<MoqPeer> barrier = Connect(2);
  ASSERT_NE(barrier, nullptr);
  EXPECT_FALSE(idle->subscriber().closed());
  EXPECT_EQ(IdleClosed(), 0u);

  time_.Advance(absl::Milliseconds(1));
  ASSERT_NO_FATAL_FAILURE(ExpectClosedForIdleness(*idle));
  EXPECT_TRUE(
      WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 1 && s.serve.sessions_idle_closed == 1; }));
  // The client that came later has its own full timeout.
  EXPECT_FALSE(barrier->subscriber().closed());
}

TEST_F(ServeIdleTest, SubscribedSessionIsKeptAndItsIdleTimeRestartsWhenItsLastSubscriptionEnds) {
  auto producer = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  (*producer)->track("data")->WriteFrame("f0");
  StartBridge();
  std::unique_ptr<MoqPeer> watcher = Connect(1);
  ASSERT_NE(watcher, nullptr);
  lite::test::LiteSubscriber& sub = watcher->subscriber();
  const uint64_t id = *sub.Subscribe("stats/a", "data");
  watcher->Flush();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.Received(id).size() == 1; })) << sub.error();
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.totals.subscriptions_active == 1; }));

  // Far past the timeout: a session with a live subscription stays.
  time_.Advance(2 * kTimeout);
  std::unique_ptr<MoqPeer> second = Connect(2);  // idle from start + 2 timeouts
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(sub.closed());
  EXPECT_EQ(IdleClosed(), 0u);

  // Its subscription ends (the broadcast goes) 30 s later: idle from then.
  time_.Advance(absl::Seconds(30));
  producer->reset();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.subscription(id)->finished; }));
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.totals.subscriptions_active == 0; }));

  // The second client reaches its timeout first; the watcher is 1 ms short.
  time_.Advance(kTimeout - absl::Milliseconds(1));
  ASSERT_NO_FATAL_FAILURE(ExpectClosedForIdleness(*second));
  ASSERT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions == 1; }));
  std::unique_ptr<MoqPeer> barrier = Connect(2);
  ASSERT_NE(barrier, nullptr);
  EXPECT_FALSE(sub.closed());
  EXPECT_EQ(IdleClosed(), 1u);

  time_.Advance(absl::Milliseconds(1));
  ASSERT_NO_FATAL_FAILURE(ExpectClosedForIdleness(*watcher));
  EXPECT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions_idle_closed == 2; }));
  EXPECT_FALSE(barrier->subscriber().closed());
}

// Following announcements is not a subscription: such a session is idle.
TEST_F(ServeIdleTest, AnnouncementInterestAloneDoesNotKeepASession) {
  auto producer = origin_.Publish(Path("stats/a"), {"data"});
  ASSERT_TRUE(producer.ok());
  StartBridge();
  std::unique_ptr<MoqPeer> follower = Connect(1);
  ASSERT_NE(follower, nullptr);
  lite::test::LiteSubscriber& sub = follower->subscriber();
  const uint64_t announces = *sub.RequestAnnounces("");
  follower->Flush();
  ASSERT_TRUE(RunUntil(io_, [&] { return sub.announces(announces)->active.count("stats/a") == 1; }));
  time_.Advance(kTimeout);
  ASSERT_NO_FATAL_FAILURE(ExpectClosedForIdleness(*follower));
  EXPECT_TRUE(WaitStatus([](const BridgeStatus& s) { return s.serve.sessions_idle_closed == 1; }));
}

TEST_F(ServeIdleTest, ZeroTimeoutNeverClosesAnIdleSession) {
  StartBridge(absl::ZeroDuration());
  std::unique_ptr<MoqPeer> idle = Connect(1);
  ASSERT_NE(idle, nullptr);
  EXPECT_FALSE(time_.scheduler().NextDeadline().has_value());
  time_.Advance(absl::Hours(24));
  std::unique_ptr<MoqPeer> barrier = Connect(2);
  ASSERT_NE(barrier, nullptr);
  EXPECT_FALSE(idle->subscriber().closed());
  EXPECT_EQ(IdleClosed(), 0u);
}

}  // namespace
}  // namespace moq_stats::bridge
