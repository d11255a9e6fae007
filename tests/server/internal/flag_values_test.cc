// The values of the daemon's flags, read one at a time; sidecar_config_test
// checks them again through ParseSidecarFlags.

#include "server/internal/flag_values.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::server::internal {
namespace {

using ::testing::StartsWith;

TEST(FlagValuesTest, QuotedEscapesWhatIsNotPrintable) {
  EXPECT_EQ(Quoted("abc"), "\"abc\"");
  EXPECT_EQ(Quoted("a\"b\xff"), "\"a\\\"b\\xff\"");
}

TEST(FlagValuesTest, WholeNumbersWithinTheirType) {
  uint32_t u32 = 7;
  EXPECT_TRUE(ParseUint32("--n", "0", &u32).ok());
  EXPECT_EQ(u32, 0u);
  EXPECT_TRUE(ParseUint32("--n", "4294967295", &u32).ok());
  EXPECT_EQ(u32, 4294967295u);
  EXPECT_EQ(ParseUint32("--n", "4294967296", &u32).message(),
            "--n: \"4294967296\" is out of range (at most 4294967295)");
  EXPECT_EQ(u32, 4294967295u);  // untouched on error
  for (const char* bad : {"", "+1", " 1", "1 ", "-1", "0x10", "1e3"}) {
    EXPECT_EQ(ParseUint32("N_VAR", bad, &u32).message(), "N_VAR: \"" + std::string(bad) + "\" is not a whole number")
        << bad;
  }
  uint64_t u64 = 0;
  EXPECT_TRUE(ParseUint64("--n", "18446744073709551615", &u64).ok());
  EXPECT_EQ(u64, 18446744073709551615u);
  EXPECT_THAT(std::string(ParseUint64("--n", "18446744073709551616", &u64).message()), StartsWith("--n: "));
}

TEST(FlagValuesTest, DurationsGoStyleOrPlainSeconds) {
  absl::Duration d;
  EXPECT_TRUE(ParseDurationValue("--d", "90", &d).ok());
  EXPECT_EQ(d, absl::Seconds(90));
  EXPECT_TRUE(ParseDurationValue("--d", "1m30s", &d).ok());
  EXPECT_EQ(d, absl::Seconds(90));
  EXPECT_TRUE(ParseDurationValue("--d", "250ms", &d).ok());
  EXPECT_EQ(d, absl::Milliseconds(250));
  EXPECT_EQ(ParseDurationValue("--d", "-1s", &d).message(), "--d: \"-1s\" is negative");
  EXPECT_EQ(ParseDurationValue("--d", "inf", &d).message(), "--d: \"inf\" is not a finite duration");
  EXPECT_EQ(ParseDurationValue("--d", "99999999999999999999", &d).message(),
            "--d: \"99999999999999999999\" is out of range");
  EXPECT_EQ(ParseDurationValue("--d", "1.5", &d).message(),
            "--d: \"1.5\" is not a duration (like \"10s\", \"500ms\", \"1m30s\"; a plain number is seconds)");
  EXPECT_EQ(d, absl::Milliseconds(250));  // untouched on error
}

TEST(FlagValuesTest, BooleansAndLogLevels) {
  bool b = false;
  EXPECT_TRUE(ParseBool("--b", "1", &b).ok());
  EXPECT_TRUE(b);
  EXPECT_TRUE(ParseBool("--b", "false", &b).ok());
  EXPECT_FALSE(b);
  EXPECT_EQ(ParseBool("--b", "yes", &b).message(), "--b: \"yes\" is not true or false");

  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevelValue("--l", "warn", &level).ok());
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevelValue("--l", "INFO", &level).message(),
            "--l: \"INFO\" is not a log level (debug, info, warning, error)");
  for (LogLevel each : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    LogLevel back = LogLevel::kInfo;
    ASSERT_TRUE(ParseLogLevelValue("--l", LogLevelName(each), &back).ok()) << LogLevelName(each);
    EXPECT_EQ(back, each);
  }
}

}  // namespace
}  // namespace moq_stats::server::internal
