#include "server/stats/level_key.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Keys(const std::string& path, uint32_t levels) {
  std::vector<std::string> out;
  for (const Path& p : LevelKeys(Path(path), levels)) out.push_back(p.str());
  return out;
}

std::string Advertised(const std::string& prefix, const std::string& key, const std::string& node) {
  return AdvertisedPath(Path(prefix), Path(key), Path(node)).str();
}

// The seed module's tests, under their names.

TEST(LevelKeyTest, level_keys_basic) {
  // levels=1: root and the first segment, no per-broadcast bucket.
  EXPECT_THAT(Keys("demo/bbb", 1), ElementsAre("", "demo"));
  // levels=2 reaches the broadcast itself.
  EXPECT_THAT(Keys("demo/bbb", 2), ElementsAre("", "demo", "demo/bbb"));
  // Capped at the broadcast's own depth.
  EXPECT_THAT(Keys("demo/bbb", 3), ElementsAre("", "demo", "demo/bbb"));
  // Deeper broadcast: levels=3 stops one short of it.
  EXPECT_THAT(Keys("a/b/c/d", 3), ElementsAre("", "a", "a/b", "a/b/c"));
  EXPECT_THAT(Keys("demo", 2), ElementsAre("", "demo"));
  EXPECT_THAT(Keys("demo/bbb", 0), IsEmpty());
}

TEST(LevelKeyTest, advertised_path_root_and_nested) {
  EXPECT_EQ(Advertised(".stats", "", "sjc"), ".stats/prefix/sjc");
  EXPECT_EQ(Advertised(".stats", "demo", "sjc"), ".stats/prefix/demo/sjc");
  EXPECT_EQ(Advertised(".stats", "demo/foo", "sjc"), ".stats/prefix/demo/foo/sjc");
}

TEST(LevelKeyTest, advertised_path_without_node) {
  EXPECT_EQ(Advertised(".stats", "", ""), ".stats/prefix");
  EXPECT_EQ(Advertised(".stats", "demo", ""), ".stats/prefix/demo");
}

TEST(LevelKeyTest, advertised_path_honors_custom_prefix) {
  EXPECT_EQ(Advertised("metrics", "", "lon"), "metrics/prefix/lon");
  EXPECT_EQ(Advertised("metrics", "demo/room", "lon"), "metrics/prefix/demo/room/lon");
}

// Beyond the seed's tests.

TEST(LevelKeyTest, EmptyPathGivesRootOnly) {
  EXPECT_THAT(Keys("", 1), ElementsAre(""));
  EXPECT_THAT(Keys("", 3), ElementsAre(""));
  EXPECT_THAT(Keys("///", 2), ElementsAre(""));
  EXPECT_THAT(Keys("", 0), IsEmpty());
}

TEST(LevelKeyTest, OddSlashesAreNormalisedFirst) {
  EXPECT_THAT(Keys("//a//b/", 2), ElementsAre("", "a", "a/b"));
  EXPECT_THAT(Keys("/a/", 5), ElementsAre("", "a"));
}

TEST(LevelKeyTest, HugeLevelsIsCappedByThePath) { EXPECT_THAT(Keys("x/y", 0xFFFFFFFFu), ElementsAre("", "x", "x/y")); }

TEST(LevelKeyTest, NodeWithSeveralSegments) {
  EXPECT_EQ(Advertised(".stats", "demo", "us-west/sjc-1"), ".stats/prefix/demo/us-west/sjc-1");
  EXPECT_EQ(Advertised(".stats", "", "/sjc/"), ".stats/prefix/sjc");
}

TEST(LevelKeyTest, PrefixWithSeveralSegments) {
  EXPECT_EQ(Advertised("ops/.stats", "demo", "sjc"), "ops/.stats/prefix/demo/sjc");
}

}  // namespace
}  // namespace moq_stats::server
