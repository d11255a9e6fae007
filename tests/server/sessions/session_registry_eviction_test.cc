// Who makes room when a new session arrives at max_sessions: a session that
// holds nothing, then the one in its grace period longest, then one whose
// stream has been silent past the idle timeout; never an active one. So
// streams that open and go silent cannot keep a relay out. Simulated time.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_registry_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

using test::AllCounts;
using test::BatchBuilder;
using test::DefaultOptions;
using test::DeltaFor;
using test::kExt;
using test::kInt;
using test::kPub;
using test::kPubRole;
using test::kSub;
using test::LevelCounts;
using test::OpenTraffic;
using test::SessionRegistryTest;
using test::Snap;
using ::testing::HasSubstr;

constexpr absl::Duration kIdle = absl::Seconds(60);

bool Known(const SessionRegistry& registry, const std::string& id) { return registry.OpenGuards(id).ok(); }

TEST_F(SessionRegistryTest, ANewcomerEvictsASessionThatHoldsNothingFirstInGraceThenAttached) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 3;
  Recreate(options);
  auto busy = AttachOk("busy");
  ApplyOk(busy.attachment, OpenTraffic(1));
  bool empty_attached_lost = false;
  auto empty_attached = AttachOk("empty-attached", [&] { empty_attached_lost = true; });
  f_.Advance(absl::Seconds(1));
  auto empty_detached = AttachOk("empty-detached");
  registry_->Detach(empty_detached.attachment);
  const LevelCounts before = AllCounts(f_.stats());

  // The one in its grace period goes first, though the attached one is older.
  AttachOk("new-1");
  EXPECT_FALSE(Known(*registry_, "empty-detached"));
  EXPECT_TRUE(Known(*registry_, "empty-attached"));
  EXPECT_FALSE(empty_attached_lost);
  // Then the attached one silent longest: its stream is told.
  AttachOk("new-2");
  EXPECT_FALSE(Known(*registry_, "empty-attached"));
  EXPECT_TRUE(empty_attached_lost);
  EXPECT_TRUE(Known(*registry_, "busy"));
  EXPECT_TRUE(Known(*registry_, "new-1"));
  EXPECT_NE(registry_->Apply(empty_attached.attachment, BatchBuilder(1)).code(), absl::StatusCode::kOk);
  registry_->Detach(empty_attached.attachment);  // the stream ending later changes nothing

  // Nothing was counted: they held nothing.
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_EQ(registry_->counts().known, 3u);
  EXPECT_EQ(registry_->counts().attached, 3u);
  EXPECT_EQ(registry_->counts().evicted, 2u);
  EXPECT_EQ(registry_->counts().expired, 0u);
  // Their relays, should they come back, start afresh with nothing lost.
  auto back = AttachOk("empty-detached");
  EXPECT_FALSE(back.resumed);
  EXPECT_EQ(back.applied_sequence, 0u);
}

TEST_F(SessionRegistryTest, ThenTheSessionInGraceLongestHasItsGuardsClosedAsAtExpiry) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 2;
  Recreate(options);
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  registry_->Detach(s1.attachment);
  f_.Advance(absl::Seconds(1));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, OpenTraffic(1));
  registry_->Detach(s2.attachment);
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 0, 4, 0, 200, 4, 2));

  AttachOk("s3");
  EXPECT_FALSE(Known(*registry_, "s1"));
  EXPECT_TRUE(Known(*registry_, "s2"));
  // s1's guards closed, and nothing else: s2's stay open for its resume.
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 1, 4, 2, 200, 4, 2));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(2, 1, 2, 1, 80));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(4, 2, 6, 3, 0, 14));
  auto resumed = AttachOk("s2");
  EXPECT_TRUE(resumed.resumed);
  // s1's grace period, had it run out, closes nothing more.
  f_.Advance(absl::Seconds(30));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 1, 4, 2, 200, 4, 2));
}

TEST_F(SessionRegistryTest, LastAnAttachedSessionSilentForTheIdleTimeoutButNeverAnActiveOne) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 2;
  options.idle_eviction = kIdle;
  Recreate(options);
  bool s1_lost = false, s2_lost = false;
  absl::Status s2_why;
  auto s1 = AttachOk("s1", [&] { s1_lost = true; });
  ApplyOk(s1.attachment, OpenTraffic(1));
  auto s2 = registry_->Attach("s2", "r", [&](const absl::Status& why) {
    s2_lost = true;
    s2_why = why;
  });
  ASSERT_TRUE(s2.ok());
  ApplyOk(s2->attachment, OpenTraffic(1));
  f_.Advance(absl::Seconds(30));
  // A batch restarts s1's silence.
  ApplyOk(s1.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(1)));
  f_.Advance(kIdle - absl::Seconds(30) - absl::Milliseconds(1));

  // Active, both: the newcomer is refused and nothing changes.
  const LevelCounts before = AllCounts(f_.stats());
  auto refused = registry_->Attach("s3", "r", nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("max_sessions=2"));
  EXPECT_EQ(AllCounts(f_.stats()), before);
  EXPECT_FALSE(s1_lost || s2_lost);

  // s2 has been silent for the idle timeout: it makes room, its guards are
  // closed and its stream told; s1 (silent 30 s) stays.
  f_.Advance(absl::Milliseconds(1));
  AttachOk("s3");
  EXPECT_TRUE(s2_lost);
  EXPECT_EQ(s2_why.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s2_why.message()), HasSubstr("its stream sent nothing for 1m"));
  EXPECT_FALSE(s1_lost);
  EXPECT_FALSE(Known(*registry_, "s2"));
  EXPECT_TRUE(Known(*registry_, "s1"));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(2, 1, 4, 2, 201, 4, 2));
  ApplyOk(s1.attachment, BatchBuilder(3).Add(DeltaFor(1, kPubRole).bytes(1)));
  EXPECT_EQ(registry_->counts().evicted, 1u);
}

TEST_F(SessionRegistryTest, AResumeRestartsTheSilence) {
  SessionRegistryOptions options = DefaultOptions();
  options.max_sessions = 2;
  options.idle_eviction = kIdle;
  Recreate(options);
  auto s1 = AttachOk("s1");
  ApplyOk(s1.attachment, OpenTraffic(1));
  auto s2 = AttachOk("s2");
  ApplyOk(s2.attachment, OpenTraffic(1));
  f_.Advance(absl::Seconds(50));
  registry_->Detach(s1.attachment);
  AttachOk("s1");  // resumed at 50 s
  f_.Advance(kIdle - absl::Seconds(50));
  AttachOk("s3");
  EXPECT_TRUE(Known(*registry_, "s1"));
  EXPECT_FALSE(Known(*registry_, "s2"));
}

// The case of the issue: more streams than max_sessions open and go silent;
// a relay still gets in, is never pushed out by later ones, and counts
// exactly.
TEST_F(SessionRegistryTest, ARelayGetsInPast1100SilentSessionsAndStays) {
  constexpr int kSilent = 1100;
  ASSERT_EQ(DefaultOptions().max_sessions, 1024u);
  ASSERT_EQ(DefaultOptions().idle_eviction, kIdle);
  for (int i = 0; i < 1024; ++i) AttachOk(absl::StrCat("silent-", i));
  bool relay_lost = false;
  auto attached = registry_->Attach("relay", "r", [&](const absl::Status&) { relay_lost = true; });
  ASSERT_TRUE(attached.ok()) << attached.status();
  const SessionRegistry::Attached relay = *attached;
  ApplyOk(relay.attachment, OpenTraffic(1));
  for (int i = 1024; i < kSilent; ++i) AttachOk(absl::StrCat("silent-", i));
  f_.Advance(kIdle / 2);
  for (int i = kSilent; i < 2 * kSilent; ++i) AttachOk(absl::StrCat("silent-", i));

  EXPECT_FALSE(relay_lost);
  ApplyOk(relay.attachment, BatchBuilder(2).Add(DeltaFor(1, kPubRole).bytes(5)));
  EXPECT_EQ(registry_->counts().known, 1024u);
  EXPECT_EQ(registry_->counts().evicted, static_cast<uint64_t>(2 * kSilent + 1 - 1024));
  EXPECT_EQ(Read("a/b", kExt, kPub), Snap(1, 0, 2, 0, 105, 2, 1));
  EXPECT_EQ(Read("a/b", kExt, kSub), Snap(1, 0, 1, 0, 40));
  EXPECT_EQ(Read("a/c", kInt, kSub), Snap(2, 0, 3, 0, 0, 7));
}

}  // namespace
}  // namespace moq_stats::server
