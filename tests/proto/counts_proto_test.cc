#include "proto/counts_proto.h"

#include "gtest/gtest.h"
#include "tests/common/test_tools/counts_testing.h"

namespace moq_stats {
namespace {
namespace pb = ::moq::stats::v1;

TEST(CountsProtoTest, TiersAndRolesRoundTrip) {
  for (Tier tier : kTiers) EXPECT_EQ(TierFromProto(TierToProto(tier)), tier);
  for (Role role : kRoles) EXPECT_EQ(RoleFromProto(RoleToProto(role)), role);
  EXPECT_EQ(TierToProto(Tier::kExternal), pb::TIER_EXTERNAL);
  EXPECT_EQ(RoleToProto(Role::kSubscriber), pb::ROLE_SUBSCRIBER);
}

TEST(CountsProtoTest, UnspecifiedAndUnknownValuesAreRefused) {
  EXPECT_EQ(TierFromProto(pb::TIER_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(TierFromProto(99), std::nullopt);
  EXPECT_EQ(RoleFromProto(pb::ROLE_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(RoleFromProto(-1), std::nullopt);
}

// Every counter gets its own value, so a field mapped to the wrong one shows.
Counts Distinct() {
  Counts c;
  for (const CountField& f : kCountFields) c[f.counter] = 100 + static_cast<uint64_t>(f.counter);
  return c;
}

TEST(CountsProtoTest, SnapshotCarriesEveryCounter) {
  pb::Snapshot wire;
  CountsToProto(Distinct(), &wire);
  EXPECT_EQ(wire.broadcasts(), 100u);
  EXPECT_EQ(wire.subscriptions_closed(), 103u);
  EXPECT_EQ(wire.groups(), 106u);
  EXPECT_EQ(wire.announced(), 107u);
  EXPECT_EQ(wire.announced_closed(), 108u);
  EXPECT_EQ(wire.announced_bytes(), 109u);
  EXPECT_EQ(wire.fetches(), 110u);
  EXPECT_EQ(wire.datagrams(), 111u);
  EXPECT_EQ(CountsFromProto(wire), Distinct());
}

TEST(CountsProtoTest, HandleDeltaCarriesEveryCounter) {
  pb::HandleDelta wire;
  CountsToDelta(Distinct(), &wire);
  EXPECT_EQ(wire.broadcasts_opened(), 100u);
  EXPECT_EQ(wire.broadcasts_closed(), 101u);
  EXPECT_EQ(wire.subscriptions_opened(), 102u);
  EXPECT_EQ(wire.bytes(), 104u);
  EXPECT_EQ(wire.announced_opened(), 107u);
  EXPECT_EQ(wire.announced_closed(), 108u);
  EXPECT_EQ(wire.announced_bytes(), 109u);
  EXPECT_EQ(wire.fetches(), 110u);
  EXPECT_EQ(wire.datagrams(), 111u);
  EXPECT_EQ(CountsFromDelta(wire), Distinct());
}

}  // namespace
}  // namespace moq_stats
