#include "origin_bridge/bridge/bridge_status.h"

#include "gtest/gtest.h"

namespace moq_stats::bridge {
namespace {

SessionCounters Counters(uint64_t n) {
  SessionCounters c;
  c.announced_broadcasts = n;
  c.subscriptions_active = n;
  c.subscriptions_served = n;
  c.groups_sent = 10 * n;
  c.group_bytes_sent = 100 * n;
  c.groups_skipped = 7 * n;
  c.wire_bytes_sent = 1000 * n;
  c.wire_bytes_received = 500 * n;
  return c;
}

TEST(StatusBoardTest, SumsLiveSessions) {
  StatusBoard board;
  board.UpdateSession(1, Counters(1));
  board.UpdateSession(2, Counters(2));
  board.UpdateSession(1, Counters(3));  // replaces, does not add
  BridgeStatus s = board.Snapshot();
  EXPECT_EQ(s.totals.announced_broadcasts, 5u);
  EXPECT_EQ(s.totals.subscriptions_active, 5u);
  EXPECT_EQ(s.totals.groups_sent, 50u);
  EXPECT_EQ(s.totals.wire_bytes_received, 2500u);
}

TEST(StatusBoardTest, EndedSessionsKeepTotalsAndDropGauges) {
  StatusBoard board;
  board.UpdateSession(1, Counters(1));
  board.UpdateSession(2, Counters(2));
  board.RemoveSession(1);
  board.RemoveSession(1);  // once only
  board.RemoveSession(7);  // unknown: nothing
  BridgeStatus s = board.Snapshot();
  EXPECT_EQ(s.totals.announced_broadcasts, 2u);
  EXPECT_EQ(s.totals.subscriptions_active, 2u);
  EXPECT_EQ(s.totals.subscriptions_served, 3u);
  EXPECT_EQ(s.totals.groups_sent, 30u);
  EXPECT_EQ(s.totals.group_bytes_sent, 300u);
  EXPECT_EQ(s.totals.groups_skipped, 21u);
  EXPECT_EQ(s.totals.wire_bytes_sent, 3000u);
  board.RemoveSession(2);
  s = board.Snapshot();
  EXPECT_EQ(s.totals.announced_broadcasts, 0u);
  EXPECT_EQ(s.totals.subscriptions_served, 3u);
}

TEST(StatusBoardTest, DialAndServeEdits) {
  StatusBoard board;
  board.EditDial([](DialStatus& d) {
    d.enabled = true;
    ++d.reconnects;
  });
  board.EditServe([](ServeStatus& s) { s.sessions = 4; });
  BridgeStatus s = board.Snapshot();
  EXPECT_TRUE(s.dial.enabled);
  EXPECT_EQ(s.dial.reconnects, 1u);
  EXPECT_EQ(s.serve.sessions, 4u);
}

}  // namespace
}  // namespace moq_stats::bridge
