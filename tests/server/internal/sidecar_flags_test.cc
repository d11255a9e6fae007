// The daemon's flag table: what ParseSidecarFlags, SidecarUsage,
// DescribeSidecarConfig and UnknownSidecarEnv rely on holding for each entry.

#include "server/internal/sidecar_flags.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server::internal {
namespace {

TEST(SidecarFlagsTest, NamesAndVariablesAreUniqueAndFound) {
  std::set<std::string> names;
  std::set<std::string> envs;
  for (const SidecarFlag& flag : SidecarFlags()) {
    SCOPED_TRACE(flag.name);
    EXPECT_TRUE(names.insert(flag.name).second);
    EXPECT_EQ(FindSidecarFlag(flag.name), &flag);
    if (flag.env == nullptr) continue;
    EXPECT_TRUE(envs.insert(flag.env).second);
    // UnknownSidecarEnv warns about the MOQ_STATS_* names no flag reads.
    EXPECT_TRUE(absl::StartsWith(flag.env, "MOQ_STATS_"));
  }
  EXPECT_EQ(FindSidecarFlag("no-such-flag"), nullptr);
  EXPECT_EQ(FindSidecarFlag(""), nullptr);
}

TEST(SidecarFlagsTest, EachKindHasWhatItsKindNeeds) {
  for (const SidecarFlag& flag : SidecarFlags()) {
    SCOPED_TRACE(flag.name);
    EXPECT_NE(flag.help, nullptr);
    const bool takes_value = flag.kind == FlagKind::kValue || flag.kind == FlagKind::kList;
    EXPECT_EQ(flag.value_name != nullptr, takes_value);
    const bool is_setting = flag.kind != FlagKind::kHelp && flag.kind != FlagKind::kVersion;
    EXPECT_EQ(flag.set != nullptr, is_setting);
    EXPECT_EQ(flag.get != nullptr, is_setting);
    EXPECT_EQ(flag.clear != nullptr, flag.kind == FlagKind::kList);
  }
}

TEST(SidecarFlagsTest, EachSettingShowsWhatItWasSetTo) {
  SidecarConfig config;
  ASSERT_TRUE(FindSidecarFlag("grace")->set("--grace", "1m30s", &config).ok());
  EXPECT_EQ(config.grace, absl::Seconds(90));
  EXPECT_EQ(FindSidecarFlag("grace")->get(config), "1m30s");

  const SidecarFlag& listen = *FindSidecarFlag("listen");
  listen.clear(&config);
  ASSERT_TRUE(listen.set("--listen", "unix:a.sock", &config).ok());
  ASSERT_TRUE(listen.set("--listen", "127.0.0.1:1", &config).ok());
  EXPECT_EQ(listen.get(config), "unix:a.sock,127.0.0.1:1");

  EXPECT_EQ(FindSidecarFlag("max-sessions")->set("MOQ_STATS_MAX_SESSIONS", "x", &config).message(),
            "MOQ_STATS_MAX_SESSIONS: \"x\" is not a whole number");
}

}  // namespace
}  // namespace moq_stats::server::internal
