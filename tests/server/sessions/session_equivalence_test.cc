// Batches have the effect of the guards they stand for: the same traffic,
// through guards and through a session, gives the same snapshots.

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_fixture.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;
using test::AllCounts;
using test::ApplyTo;
using test::BatchBuilder;
using test::DeltaFor;
using test::ExpectAllClosed;
using test::kExt;
using test::kInt;
using test::kInterval;
using test::kIntTier;
using test::kPubRole;
using test::kSubRole;
using test::StatsFixture;

// ---------------------------------------------------------------------------
// Batches have the effect of the guards they stand for.

TEST(SessionEquivalenceTest, GuardsAndBatchesGiveTheSameSnapshots) {
  StatsFixture by_guards(2);
  StatsFixture by_batches(2);
  {
    // The traffic, through guards.
    Stats& s = by_guards.stats();
    BroadcastStats ab = s.tier(kExt).broadcast("a/b");
    BroadcastStats deep = s.tier(kExt).broadcast("a/b/c/d");
    BroadcastStats ac = s.tier(kInt).broadcast("a/c");
    BroadcastStats x = s.tier(kExt).broadcast("x");
    PublisherStats ab_pub = ab.publisher();
    PublisherTrack video = ab_pub.track("video");
    video.bytes(1200);
    video.frame();
    video.group();
    {
      PublisherTrack audio = ab_pub.track("audio");
      audio.bytes(80);
      audio.frame();
      audio.frame();
    }
    SubscriberStats ab_sub = ab.subscriber();
    SubscriberTrack ab_sub_video = ab_sub.track("video");
    ab_sub_video.bytes(1200);
    {
      PublisherStats deep_pub = deep.publisher();
      PublisherTrack t = deep_pub.track("t");
      t.bytes(5);
      t.group();
    }
    SubscriberStats ac_sub = ac.subscriber();
    SubscriberTrack ac_track = ac_sub.track("x");
    ac_track.frame();
    PublisherStats ac_pub = ac.publisher();  // a broadcast without tracks
    { SubscriberStats x_sub = x.subscriber(); }
    SubscriberTrack x_track = x.subscriber_track("lone");  // a track without a broadcast guard
    x_track.bytes(3);
    by_guards.Advance(kInterval);
    // Leave these open for the comparison below.
    std::vector<PublisherTrack> keep_pub;
    keep_pub.push_back(std::move(video));
    std::vector<SubscriberTrack> keep_sub;
    keep_sub.push_back(std::move(ab_sub_video));
    keep_sub.push_back(std::move(ac_track));
    keep_sub.push_back(std::move(x_track));
    // Compare while they are open and after they close, through the batches
    // below.
    Session session("s", "r", by_batches.stats(), SessionLimits{});
    auto apply = [&](const pb::Batch& batch) {
      absl::Status st = ApplyTo(session, batch);
      ASSERT_TRUE(st.ok()) << st;
    };
    apply(BatchBuilder(1)
              .Define(1, "a/b")
              .Define(2, "a/b/c/d")
              .Define(3, "a/c", kIntTier)
              .Define(4, "x")
              .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(1280).frames(3).groups(1))
              .Add(DeltaFor(1, kPubRole).subscriptions_closed(1))
              .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(1200))
              .Add(DeltaFor(2, kPubRole)
                       .broadcasts_opened(1)
                       .broadcasts_closed(1)
                       .subscriptions_opened(1)
                       .subscriptions_closed(1)
                       .bytes(5)
                       .groups(1))
              .Add(DeltaFor(3, kSubRole).broadcasts_opened(1).subscriptions_opened(1).frames(1))
              .Add(DeltaFor(3, kPubRole).broadcasts_opened(1))
              .Add(DeltaFor(4, kSubRole).broadcasts_opened(1).broadcasts_closed(1))
              .Add(DeltaFor(4, kSubRole).subscriptions_opened(1).bytes(3)));
    by_batches.Advance(kInterval);
    EXPECT_EQ(AllCounts(by_batches.stats()), AllCounts(by_guards.stats()));
    EXPECT_EQ(by_batches.stats().running_publishers(), by_guards.stats().running_publishers());
    EXPECT_EQ(by_batches.stats().level_count(), by_guards.stats().level_count());

    // Everything closes.
    keep_pub.clear();
    keep_sub.clear();
    ab_pub = PublisherStats();
    ab_sub = SubscriberStats();
    ac_sub = SubscriberStats();
    ac_pub = PublisherStats();
    apply(BatchBuilder(2)
              .Add(DeltaFor(1, kPubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(1, kSubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(3, kSubRole).broadcasts_closed(1).subscriptions_closed(1))
              .Add(DeltaFor(3, kPubRole).broadcasts_closed(1))
              .Add(DeltaFor(4, kSubRole).subscriptions_closed(1)));
    EXPECT_EQ(AllCounts(by_batches.stats()), AllCounts(by_guards.stats()));
    // The final frames, then the end of the linger.
    by_guards.Advance(2 * kInterval);
    by_batches.Advance(2 * kInterval);
    EXPECT_EQ(by_batches.stats().running_publishers(), 0);
    EXPECT_EQ(by_guards.stats().running_publishers(), 0);
    ExpectAllClosed(by_batches.stats());
  }
  // Every level, tier and role, one by one, for a readable failure.
  for (const auto& [key, counts] : AllCounts(by_guards.stats())) {
    for (size_t i = 0; i < kTierRoleCount; ++i) {
      EXPECT_EQ(by_batches.Read(key, TierAt(i), RoleAt(i)), counts[i])
          << "level \"" << key << "\" " << TierName(TierAt(i)) << " " << RoleName(RoleAt(i));
    }
  }
}

}  // namespace
}  // namespace moq_stats::server
