// moq's counters that only the node format publishes (announcements,
// fetches, datagrams) travel through a session like the others: announce
// guards open and close, are closed by CloseAll and set by a resync, keep a
// handle from being released, and are kept in the session's checkpoint
// record; the sums add up exactly.

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/checkpoint.pb.h"
#include "server/sessions/session.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"

namespace moq_stats::server {
namespace {

using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::kExt;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::kSubRole;
using test::SessionTest;

Counts Announced(uint64_t announced, uint64_t closed, uint64_t bytes, uint64_t fetches = 0, uint64_t datagrams = 0) {
  Counts c;
  c.announced = announced;
  c.announced_closed = closed;
  c.announced_bytes = bytes;
  c.fetches = fetches;
  c.datagrams = datagrams;
  return c;
}

TEST_F(SessionTest, NodeOnlyCountersLandOnEveryLevelOfThePath) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Add(
      DeltaFor(1, kPubRole).announced_opened(2).announced_bytes(6).fetches(3).datagrams(4)));
  for (const char* key : {"", "a", "a/b"}) EXPECT_EQ(Read(key, kExt, kPub), Announced(2, 0, 6, 3, 4)) << key;
  EXPECT_EQ(session_.open_guards()[0].announced, 2u);
  ApplyOk(BatchBuilder(2).Add(DeltaFor(1, kPubRole).announced_closed(1).announced_bytes(3)));
  EXPECT_EQ(Read("a/b", kExt, kPub), Announced(2, 1, 9, 3, 4));
  EXPECT_EQ(session_.open_guards()[0].announced, 1u);
}

TEST_F(SessionTest, ClosingMoreAnnouncementsThanAreOpenIsRefused) {
  ApplyOk(BatchBuilder(1).Define(1, "a").Add(DeltaFor(1, kSubRole).announced_opened(1)));
  absl::Status s = ApplyTo(session_, BatchBuilder(2).Add(DeltaFor(1, kSubRole).announced_closed(2)));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("announce"), std::string::npos) << s.message();
  EXPECT_EQ(Read("a", kExt, kSub), Announced(1, 0, 0));
}

TEST_F(SessionTest, AHandleWithAnAnnouncementOpenCannotBeReleased) {
  ApplyOk(BatchBuilder(1).Define(1, "a").Add(DeltaFor(1, kPubRole).announced_opened(1)));
  absl::Status s = ApplyTo(session_, BatchBuilder(2).Release(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("1 announce"), std::string::npos) << s.message();
  ApplyOk(BatchBuilder(3).Add(DeltaFor(1, kPubRole).announced_closed(1)).Release(1));
  EXPECT_EQ(session_.handle_count(), 0u);
}

TEST_F(SessionTest, CloseAllClosesOpenAnnouncements) {
  ApplyOk(BatchBuilder(1).Define(1, "a/b").Add(DeltaFor(1, kPubRole).announced_opened(3).announced_bytes(9)));
  session_.CloseAll();
  ExpectAllClosed(f_.stats());
  // Closing adds no bytes: the relay counts those, the sidecar only the guards.
  EXPECT_EQ(Read("a/b", kExt, kPub), Announced(3, 3, 9));
}

TEST_F(SessionTest, AResyncSetsTheAnnouncementsOpen) {
  ApplyOk(BatchBuilder(1).Define(1, "a").Add(DeltaFor(1, kPubRole).announced_opened(3)));
  // The relay holds one announcement open now: two are closed.
  ApplyOk(BatchBuilder(2).Resync().Define(1, "a").Open(1, kPubRole, 0, 0, 1));
  EXPECT_EQ(Read("a", kExt, kPub), Announced(3, 2, 0));
  // And one more open than recorded opens it.
  ApplyOk(BatchBuilder(3).Resync().Define(1, "a").Open(1, kPubRole, 0, 0, 2));
  EXPECT_EQ(Read("a", kExt, kPub), Announced(4, 2, 0));
}

TEST_F(SessionTest, TheCheckpointRecordKeepsOpenAnnouncements) {
  ApplyOk(BatchBuilder(1)
              .Define(1, "a")
              .Add(DeltaFor(1, kPubRole).announced_opened(2))
              .Add(DeltaFor(1, kSubRole).announced_opened(1)));
  ::moq::stats::v1::CheckpointSession saved;
  session_.SaveTo(&saved);
  ASSERT_EQ(saved.handles_size(), 1);
  EXPECT_EQ(saved.handles(0).publisher_announced(), 2u);
  EXPECT_EQ(saved.handles(0).subscriber_announced(), 1u);
  auto restored = Session::Restore(saved, f_.stats(), SessionLimits{});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->open_guards()[0].announced, 2u);
  EXPECT_EQ((*restored)->open_guards()[1].announced, 1u);
}

}  // namespace
}  // namespace moq_stats::server
