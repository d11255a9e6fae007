#include "server/auth/auth_tokens.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

constexpr char kOld[] = "old-token-0123456789abcdef";
constexpr char kNew[] = "new-token-0123456789abcdef";

TEST(ConstantTimeEqualsTest, EqualOnlyWhenEveryByteAndTheSizeMatch) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals(kOld, kOld));
  EXPECT_FALSE(ConstantTimeEquals(kOld, kNew));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  // A shorter string is not equal to a longer one padded with NULs.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", std::string("\0", 1)));
  // High bytes are compared as bytes.
  EXPECT_FALSE(ConstantTimeEquals("\x80", "\x00"));
  EXPECT_TRUE(ConstantTimeEquals("\xff\x80", "\xff\x80"));
}

TEST(AuthTokensTest, ParsesOneTokenPerLineSkippingBlankAndCommentLines) {
  absl::StatusOr<AuthTokens> tokens =
      AuthTokens::Parse(std::string("# rotated on 2026-12-01\n\n  ") + kOld + "  \r\n" + kNew + "\n");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_TRUE(tokens->Accepts(kOld));
  EXPECT_TRUE(tokens->Accepts(kNew));
  EXPECT_FALSE(tokens->Accepts("another-token-0123456789"));
  EXPECT_FALSE(tokens->Accepts(std::string(kOld) + "x"));
  EXPECT_FALSE(tokens->Accepts(std::string(kOld).substr(1)));
  EXPECT_FALSE(tokens->Accepts(""));
  EXPECT_FALSE(tokens->Accepts("# rotated on 2026-12-01"));
}

TEST(AuthTokensTest, RefusesFilesWithoutATokenOrWithABadOneNamingTheLineNotTheText) {
  EXPECT_EQ(AuthTokens::Parse("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuthTokens::Parse("\n# only a comment\n   \n").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<AuthTokens> short_token = AuthTokens::Parse(std::string(kOld) + "\nshort-secret\n");
  ASSERT_FALSE(short_token.ok());
  EXPECT_NE(short_token.status().message().find("line 2"), std::string::npos) << short_token.status();
  EXPECT_EQ(short_token.status().message().find("short-secret"), std::string::npos) << short_token.status();
  absl::StatusOr<AuthTokens> spaced = AuthTokens::Parse("secret with spaces inside it\n");
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.status().message().find("secret"), std::string::npos) << spaced.status();
  EXPECT_FALSE(AuthTokens::Parse("token-with-\x01-control-char").ok());
  EXPECT_FALSE(AuthTokens::Parse("token-with-\xc3\xa9-non-ascii").ok());
}

TEST(AuthTokensTest, AnEmptySetAcceptsNothing) {
  AuthTokens none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Accepts(""));
  EXPECT_FALSE(none.Accepts(kOld));
}

TEST(AuthTokensTest, ReadFileNamesThePathOnError) {
  absl::StatusOr<AuthTokens> missing = AuthTokens::ReadFile("/nonexistent/moq-stats-tokens");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/moq-stats-tokens"), std::string::npos);

  std::string path = ::testing::TempDir() + "/auth_tokens_test.tokens";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(kNew, f);
  std::fclose(f);
  absl::StatusOr<AuthTokens> read = AuthTokens::ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->Accepts(kNew));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace moq_stats::server
