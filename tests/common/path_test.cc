#include "common/path.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Bytes from integers, so that invalid UTF-8 can be spelled out exactly.
std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// "a/a/.../a" with `n` segments.
std::string PathWithSegments(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back('/');
    out.push_back('a');
  }
  return out;
}

// --- Normalisation -----------------------------------------------------------

TEST(PathTest, KeepsAlreadyNormalisedPath) {
  EXPECT_EQ(Path("a/b/c").str(), "a/b/c");
  EXPECT_EQ(Path("room").str(), "room");
}

TEST(PathTest, TrimsLeadingAndTrailingSlashes) {
  EXPECT_EQ(Path("/a").str(), "a");
  EXPECT_EQ(Path("a/").str(), "a");
  EXPECT_EQ(Path("/a/b/").str(), "a/b");
  EXPECT_EQ(Path("///a///").str(), "a");
}

TEST(PathTest, CollapsesRunsOfSlashes) {
  EXPECT_EQ(Path("a//b").str(), "a/b");
  EXPECT_EQ(Path("a////b///c").str(), "a/b/c");
  EXPECT_EQ(Path("//a//b/").str(), "a/b");
}

TEST(PathTest, EmptyAndAllSlashesAreTheEmptyPath) {
  EXPECT_TRUE(Path("").empty());
  EXPECT_EQ(Path("").str(), "");
  EXPECT_TRUE(Path("/").empty());
  EXPECT_TRUE(Path("///").empty());
  EXPECT_EQ(Path("///").str(), "");
  EXPECT_TRUE(Path().empty());
  EXPECT_EQ(Path("///"), Path());
  EXPECT_FALSE(Path("a").empty());
}

TEST(PathTest, KeepsNonSlashBytesAsTheyAre) {
  // Only '/' is special: dots, spaces and UTF-8 pass through untouched.
  EXPECT_EQ(Path("/./a b/\xC3\xA9/..").str(), "./a b/\xC3\xA9/..");
}

// --- Segments ----------------------------------------------------------------

TEST(PathTest, SegmentCount) {
  EXPECT_EQ(Path("").segment_count(), 0u);
  EXPECT_EQ(Path("///").segment_count(), 0u);
  EXPECT_EQ(Path("a").segment_count(), 1u);
  EXPECT_EQ(Path("a/b").segment_count(), 2u);
  EXPECT_EQ(Path("//a//b//c//").segment_count(), 3u);
}

TEST(PathTest, Segments) {
  EXPECT_THAT(Path("").segments(), IsEmpty());
  EXPECT_THAT(Path("///").segments(), IsEmpty());
  EXPECT_THAT(Path("a").segments(), ElementsAre("a"));
  EXPECT_THAT(Path("//foo//bar/baz/").segments(), ElementsAre("foo", "bar", "baz"));
}

TEST(PathTest, SegmentsAgreeWithSegmentCount) {
  for (const char* raw : {"", "x", "x/y", "/x//y/z/", "a/b/c/d/e"}) {
    Path p(raw);
    EXPECT_EQ(p.segments().size(), p.segment_count()) << raw;
  }
}

// --- has_prefix --------------------------------------------------------------

TEST(PathTest, HasPrefixMatchesWholeSegments) {
  EXPECT_TRUE(Path("foo").has_prefix(Path("foo")));
  EXPECT_TRUE(Path("foo/bar").has_prefix(Path("foo")));
  EXPECT_TRUE(Path("foo/bar/baz").has_prefix(Path("foo/bar")));
  EXPECT_FALSE(Path("foobar").has_prefix(Path("foo")));
  EXPECT_FALSE(Path("foo/barbaz").has_prefix(Path("foo/bar")));
  EXPECT_FALSE(Path("bar/foo").has_prefix(Path("foo")));
}

TEST(PathTest, EmptyPrefixMatchesEveryPath) {
  EXPECT_TRUE(Path("").has_prefix(Path("")));
  EXPECT_TRUE(Path("foo").has_prefix(Path("")));
  EXPECT_TRUE(Path("foo/bar").has_prefix(Path("///")));
}

TEST(PathTest, LongerPrefixDoesNotMatch) {
  EXPECT_FALSE(Path("foo").has_prefix(Path("foo/bar")));
  EXPECT_FALSE(Path("").has_prefix(Path("foo")));
}

TEST(PathTest, HasPrefixComparesNormalisedForms) { EXPECT_TRUE(Path("//foo//bar/").has_prefix(Path("/foo/"))); }

// --- suffix_after ------------------------------------------------------------

TEST(PathTest, SuffixAfter) {
  EXPECT_EQ(Path("foo/bar/baz").suffix_after(Path("foo")), "bar/baz");
  EXPECT_EQ(Path("foo/bar/baz").suffix_after(Path("foo/bar")), "baz");
  EXPECT_EQ(Path("foo/bar").suffix_after(Path("foo/bar")), "");
  EXPECT_EQ(Path("foo/bar").suffix_after(Path("")), "foo/bar");
  EXPECT_EQ(Path("").suffix_after(Path("")), "");
}

// --- join --------------------------------------------------------------------

TEST(PathTest, Join) {
  EXPECT_EQ(Path("a").join(Path("b/c")).str(), "a/b/c");
  EXPECT_EQ(Path("a/b").join(Path("c")).str(), "a/b/c");
  EXPECT_EQ(Path("a").join(Path("b/c")).segment_count(), 3u);
}

TEST(PathTest, JoinWithEmptySide) {
  EXPECT_EQ(Path("").join(Path("b/c")).str(), "b/c");
  EXPECT_EQ(Path("a/b").join(Path("")).str(), "a/b");
  EXPECT_TRUE(Path("").join(Path("")).empty());
}

TEST(PathTest, JoinedPathHasLeftSideAsPrefix) {
  Path joined = Path("room/1").join(Path("alice"));
  EXPECT_TRUE(joined.has_prefix(Path("room/1")));
  EXPECT_EQ(joined.suffix_after(Path("room/1")), "alice");
  EXPECT_EQ(joined, Path("/room//1/alice/"));
}

// --- first_segments ----------------------------------------------------------

TEST(PathTest, FirstSegmentsZeroIsEmpty) {
  EXPECT_TRUE(Path("a/b/c").first_segments(0).empty());
  EXPECT_TRUE(Path("").first_segments(0).empty());
}

TEST(PathTest, FirstSegmentsInRange) {
  Path p("a/bb/ccc");
  EXPECT_EQ(p.first_segments(1).str(), "a");
  EXPECT_EQ(p.first_segments(2).str(), "a/bb");
  EXPECT_EQ(p.first_segments(3).str(), "a/bb/ccc");
  EXPECT_EQ(p.first_segments(2).segment_count(), 2u);
  EXPECT_TRUE(p.has_prefix(p.first_segments(2)));
}

TEST(PathTest, FirstSegmentsBeyondCountIsWholePath) {
  Path p("a/bb/ccc");
  EXPECT_EQ(p.first_segments(4), p);
  EXPECT_EQ(p.first_segments(1000), p);
  EXPECT_TRUE(Path("").first_segments(3).empty());
}

// --- Ordering, equality, hashing ---------------------------------------------

TEST(PathTest, EqualityIsOnNormalisedForm) {
  EXPECT_EQ(Path("/a//b/"), Path("a/b"));
  EXPECT_FALSE(Path("/a//b/") != Path("a/b"));
  EXPECT_NE(Path("a/b"), Path("a/bc"));
  EXPECT_NE(Path("a/b"), Path("ab"));
}

TEST(PathTest, OrderingIsByNormalisedString) {
  EXPECT_LT(Path("a"), Path("a/b"));
  EXPECT_LT(Path("a/b"), Path("b"));
  EXPECT_LT(Path(""), Path("a"));
  EXPECT_FALSE(Path("/a/") < Path("a"));
  EXPECT_FALSE(Path("a") < Path("/a/"));

  std::vector<Path> paths = {Path("c"), Path("/a/b/"), Path("b"), Path("a")};
  std::sort(paths.begin(), paths.end());
  EXPECT_THAT(paths, ElementsAre(Path("a"), Path("a/b"), Path("b"), Path("c")));
}

TEST(PathTest, HashAgreesWithEquality) {
  EXPECT_EQ(absl::Hash<Path>()(Path("//a//b/")), absl::Hash<Path>()(Path("a/b")));
}

TEST(PathTest, UsableInFlatHashSet) {
  absl::flat_hash_set<Path> set;
  EXPECT_TRUE(set.insert(Path("a/b")).second);
  EXPECT_FALSE(set.insert(Path("//a//b/")).second);  // same path once normalised
  EXPECT_TRUE(set.insert(Path("a")).second);
  EXPECT_TRUE(set.insert(Path("")).second);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_TRUE(set.contains(Path("/a/b")));
  EXPECT_TRUE(set.contains(Path("///")));
  EXPECT_FALSE(set.contains(Path("a/b/c")));
}

// --- ValidatePath ------------------------------------------------------------

TEST(ValidatePathTest, AcceptsOrdinaryPaths) {
  EXPECT_TRUE(ValidatePath("room/1/alice").ok());
  EXPECT_TRUE(ValidatePath("").ok());
  EXPECT_TRUE(ValidatePath("/caf\xC3\xA9/\xE2\x82\xAC/").ok());
}

TEST(ValidatePathTest, AcceptsExactlyMaxBytes) {
  std::string raw(kMaxPathBytes, 'a');
  ASSERT_EQ(raw.size(), 1024u);
  EXPECT_TRUE(ValidatePath(raw).ok());
}

TEST(ValidatePathTest, RefusesOneByteOverMaxBytesNamingTheLimit) {
  std::string raw(kMaxPathBytes + 1, 'a');
  absl::Status status = ValidatePath(raw);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("1024"));
}

TEST(ValidatePathTest, CountsRawBytesBeforeNormalising) {
  // 1025 raw bytes that normalise to a single 'a' are still refused.
  std::string raw(kMaxPathBytes, '/');
  raw.push_back('a');
  EXPECT_EQ(ValidatePath(raw).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidatePathTest, AcceptsExactlyMaxSegments) {
  std::string raw = PathWithSegments(kMaxPathSegments);
  ASSERT_EQ(Path(raw).segment_count(), 32u);
  EXPECT_TRUE(ValidatePath(raw).ok());
}

TEST(ValidatePathTest, RefusesOneSegmentOverMaxSegmentsNamingTheLimit) {
  std::string raw = PathWithSegments(kMaxPathSegments + 1);
  absl::Status status = ValidatePath(raw);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("32"));
}

TEST(ValidatePathTest, CountsSegmentsAfterNormalising) {
  // 32 segments joined by "//" with slashes at both ends: extra slashes add no
  // segments, so this is accepted.
  std::string raw = "//";
  for (size_t i = 0; i < kMaxPathSegments; ++i) raw += "a//";
  ASSERT_EQ(Path(raw).segment_count(), 32u);
  EXPECT_TRUE(ValidatePath(raw).ok());

  // One more segment, still with doubled slashes, is refused.
  raw += "a";
  ASSERT_EQ(Path(raw).segment_count(), 33u);
  EXPECT_EQ(ValidatePath(raw).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidatePathTest, RefusesInvalidUtf8) {
  absl::Status status = ValidatePath("room/" + Bytes({0xC3}) + "/alice");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("UTF-8"));
  EXPECT_EQ(ValidatePath(Bytes({0xFF})).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moq_stats
