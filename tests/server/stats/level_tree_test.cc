#include "server/stats/level_tree.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_tools/simulated_time.h"

namespace moq_stats::server {
namespace {

using ::moq_stats::test::SimulatedTime;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class LevelTreeTest : public ::testing::Test {
 protected:
  // Declared before the tree, which borrows its scheduler and clock.
  SimulatedTime time_;
  std::shared_ptr<LevelTree> tree_ =
      LevelTree::Create(Path(".stats"), Path("sjc"), absl::Seconds(60), &time_.scheduler(), &time_.clock());

  std::vector<std::shared_ptr<Level>> Acquire(std::vector<std::string> keys) {
    std::vector<Path> paths(keys.begin(), keys.end());
    return tree_->Acquire(paths);
  }
  // `after` "-" stands for none (from the first).
  std::vector<std::string> ListKeys(const std::string& prefix, const std::string& after = "-", size_t limit = 100) {
    std::optional<Path> from;
    if (after != "-") from = Path(after);
    std::vector<std::string> out;
    for (const auto& level : tree_->List(Path(prefix), from, limit)) out.push_back(level->key().str());
    return out;
  }
};

TEST_F(LevelTreeTest, AcquireCreatesOnceAndCountsHandles) {
  auto a = Acquire({"", "demo"});
  auto b = Acquire({"", "demo", "demo/x"});
  EXPECT_EQ(tree_->size(), 3u);
  EXPECT_EQ(a[0], b[0]);
  EXPECT_EQ(a[0]->handles(), 2);
  EXPECT_EQ(b[2]->handles(), 1);
  EXPECT_EQ(b[1]->advertised().str(), ".stats/prefix/demo/sjc");
  EXPECT_EQ(tree_->Find(Path("demo/x")), b[2]);
  EXPECT_EQ(tree_->Find(Path("nope")), nullptr);
  tree_->Release(a);
  EXPECT_EQ(a[0]->handles(), 1);
  tree_->Release(b);
}

TEST_F(LevelTreeTest, RetentionFreesAnUnreferencedLevel) {
  auto levels = Acquire({"gone", "gone/x"});
  tree_->Release(levels);
  levels.clear();
  time_.Advance(absl::Seconds(59));
  EXPECT_EQ(tree_->size(), 2u);
  time_.Advance(absl::Seconds(1));
  EXPECT_EQ(tree_->size(), 0u);
  EXPECT_EQ(tree_->freed(), 2u);
  EXPECT_EQ(time_.scheduler().pending(), 0u) << "no sweep stays scheduled with nothing idle";
}

TEST_F(LevelTreeTest, RootLevelIsNeverFreed) {
  auto levels = Acquire({"", "gone"});
  Counts bytes;
  bytes.bytes = 5;
  levels[0]->counters(Tier::kExternal, Role::kPublisher).Add(bytes);
  const int64_t created = levels[0]->created_unix_ms();
  tree_->Release(levels);
  levels.clear();
  time_.Advance(absl::Hours(24));
  EXPECT_THAT(ListKeys(""), ElementsAre(""));
  EXPECT_EQ(tree_->freed(), 1u);
  std::shared_ptr<Level> root = tree_->Find(Path());
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->snapshot(Tier::kExternal, Role::kPublisher).bytes, 5u) << "the totals are kept";
  EXPECT_EQ(root->created_unix_ms(), created);
  EXPECT_EQ(time_.scheduler().pending(), 0u) << "nothing stays scheduled for the root";
}

TEST(LevelTreeRetentionTest, ZeroRetentionKeepsEveryLevel) {
  SimulatedTime time;
  auto tree = LevelTree::Create(Path(".stats"), Path("sjc"), absl::ZeroDuration(), &time.scheduler(), &time.clock());
  auto levels = tree->Acquire({Path(""), Path("a"), Path("a/b")});
  tree->Release(levels);
  levels.clear();
  time.Advance(absl::Hours(24 * 365));
  EXPECT_EQ(tree->size(), 3u);
  EXPECT_EQ(tree->freed(), 0u);
  EXPECT_EQ(time.scheduler().pending(), 0u) << "no sweep is scheduled when nothing can be freed";
}

TEST_F(LevelTreeTest, ALevelCreatedAgainAfterRetentionIsANewIncarnation) {
  auto first = Acquire({"x"});
  const int64_t first_created = first[0]->created_unix_ms();
  EXPECT_EQ(first_created, time_.clock().UnixMillis());
  Counts frames;
  frames.frames = 9;
  first[0]->counters(Tier::kExternal, Role::kPublisher).Add(frames);
  tree_->Release(first);
  first.clear();
  time_.Advance(absl::Seconds(60));
  ASSERT_EQ(tree_->size(), 0u);
  time_.Advance(absl::Seconds(5));
  auto again = Acquire({"x"});
  // Zero again, and recognisable as such: created later.
  EXPECT_EQ(again[0]->snapshot(Tier::kExternal, Role::kPublisher).frames, 0u);
  EXPECT_EQ(again[0]->created_unix_ms(), first_created + 65'000);
  tree_->Release(again);
}

TEST_F(LevelTreeTest, ARestoredLevelKeepsItsCreationTime) {
  std::shared_ptr<Level> restored = tree_->AcquireRestored(Path("r"), 1'600'000'000'123);
  EXPECT_EQ(restored->created_unix_ms(), 1'600'000'000'123);
  // An existing level keeps its own time.
  std::shared_ptr<Level> again = tree_->AcquireRestored(Path("r"), 1'500'000'000'000);
  EXPECT_EQ(again, restored);
  EXPECT_EQ(again->created_unix_ms(), 1'600'000'000'123);
  // 0: a checkpoint that did not keep it; the time of the restore.
  std::shared_ptr<Level> unknown = tree_->AcquireRestored(Path("u"), 0);
  EXPECT_EQ(unknown->created_unix_ms(), time_.clock().UnixMillis());
  tree_->Release({restored, again, unknown});
}

TEST_F(LevelTreeTest, ReferencedLevelIsKept) {
  auto held = Acquire({""});
  auto other = Acquire({"", "x"});
  tree_->Release(other);
  time_.Advance(absl::Seconds(120));
  EXPECT_THAT(ListKeys(""), ElementsAre(""));
  tree_->Release(held);
}

TEST_F(LevelTreeTest, ReacquiredLevelRestartsItsRetention) {
  auto first = Acquire({"x"});
  tree_->Release(first);
  time_.Advance(absl::Seconds(30));
  auto again = Acquire({"x"});
  time_.Advance(absl::Seconds(40));  // the first idle period would have ended here
  EXPECT_EQ(tree_->size(), 1u);
  tree_->Release(again);
  time_.Advance(absl::Seconds(59));
  EXPECT_EQ(tree_->size(), 1u);
  time_.Advance(absl::Seconds(1));
  EXPECT_EQ(tree_->size(), 0u);
}

TEST_F(LevelTreeTest, LevelWithARunningPublisherIsKeptUntilItStops) {
  auto levels = Acquire({"live"});
  std::shared_ptr<Level> level = levels[0];
  level->set_publisher_running(true);
  tree_->Release(levels);
  time_.Advance(absl::Seconds(120));
  EXPECT_EQ(tree_->size(), 1u);
  // Stopped: retention starts now, not when the last handle went.
  level->set_publisher_running(false);
  tree_->OnPublisherStopped(level);
  time_.Advance(absl::Seconds(59));
  EXPECT_EQ(tree_->size(), 1u);
  time_.Advance(absl::Seconds(1));
  EXPECT_EQ(tree_->size(), 0u);
}

TEST_F(LevelTreeTest, StoppedPublisherOfAReferencedLevelFreesNothing) {
  auto levels = Acquire({"held"});
  levels[0]->set_publisher_running(true);
  levels[0]->set_publisher_running(false);
  tree_->OnPublisherStopped(levels[0]);
  time_.Advance(absl::Seconds(120));
  EXPECT_EQ(tree_->size(), 1u);
  EXPECT_EQ(time_.scheduler().pending(), 0u) << "nothing idle, nothing to sweep";
  tree_->Release(levels);
}

TEST_F(LevelTreeTest, ListUnderPrefixByWholeSegmentsInPages) {
  for (const char* key : {"foo", "foo/a", "foo/b", "foo!x", "foobar", "fo", "zed"}) {
    auto l = Acquire({key});
    tree_->Release(l);
  }
  EXPECT_THAT(ListKeys("foo"), ElementsAre("foo", "foo/a", "foo/b"));
  EXPECT_THAT(ListKeys("foo", "-", 2), ElementsAre("foo", "foo/a"));
  EXPECT_THAT(ListKeys("foo", "foo/a", 2), ElementsAre("foo/b"));
  EXPECT_THAT(ListKeys("foo", "foo/b"), IsEmpty());
  EXPECT_THAT(ListKeys("", "foobar"), ElementsAre("zed"));
  EXPECT_THAT(ListKeys("", "-", 3), ElementsAre("fo", "foo", "foo!x"));
  EXPECT_THAT(ListKeys("nothing"), IsEmpty());
  // A page token before the prefix starts at the prefix.
  EXPECT_THAT(ListKeys("foo", "a"), ElementsAre("foo", "foo/a", "foo/b"));
}

TEST_F(LevelTreeTest, ListingPastTheRootGoesOn) {
  auto held = Acquire({"", "a", "b"});
  // The root's key is empty: a page that ends with it is still continued.
  EXPECT_THAT(ListKeys("", "-", 1), ElementsAre(""));
  EXPECT_THAT(ListKeys("", "", 1), ElementsAre("a"));
  EXPECT_THAT(ListKeys("", "a", 5), ElementsAre("b"));
  tree_->Release(held);
}

}  // namespace
}  // namespace moq_stats::server
