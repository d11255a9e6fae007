// Tier labels: the default tier's spellings, internal, and what a named
// tier may be.

#include "common/tier_label.h"

#include <string>

#include "gtest/gtest.h"

namespace moq_stats {
namespace {

TEST(TierLabelTest, TheLevelFormatsTiersHaveTheirLabels) {
  EXPECT_EQ(*NormalizeTierLabel(""), "");
  EXPECT_EQ(*NormalizeTierLabel("external"), "");
  EXPECT_EQ(*NormalizeTierLabel("internal"), "internal");
  EXPECT_FALSE(IsNamedTier(""));
  EXPECT_FALSE(IsNamedTier("internal"));
}

TEST(TierLabelTest, ANamedTierIsOneSegmentOfAtMost64Bytes) {
  EXPECT_EQ(*NormalizeTierLabel("edge-eu.1"), "edge-eu.1");
  EXPECT_TRUE(IsNamedTier("edge-eu.1"));
  EXPECT_EQ(*NormalizeTierLabel(std::string(64, 'x')), std::string(64, 'x'));
  for (const std::string& bad : {std::string(65, 'x'), std::string("a/b"), std::string("/a"), std::string("."),
                                 std::string(".."), std::string("caf\xc3")}) {
    absl::StatusOr<std::string> label = NormalizeTierLabel(bad);
    EXPECT_EQ(label.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    if (!label.ok()) {
      EXPECT_NE(label.status().message().find("tier label"), std::string::npos) << label.status();
    }
  }
}

}  // namespace
}  // namespace moq_stats
