#include "common/logging.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

// --- ParseLogLevel -----------------------------------------------------------

TEST(ParseLogLevelTest, AcceptsKnownNames) {
  LogLevel level = LogLevel::kError;
  ASSERT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  ASSERT_TRUE(ParseLogLevel("info", &level));
  EXPECT_EQ(level, LogLevel::kInfo);
  ASSERT_TRUE(ParseLogLevel("warning", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  ASSERT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
}

TEST(ParseLogLevelTest, AcceptsWarnAsWarning) {
  LogLevel level = LogLevel::kDebug;
  ASSERT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
}

TEST(ParseLogLevelTest, RefusesUnknownNames) {
  LogLevel level = LogLevel::kInfo;
  for (const char* text :
       {"", "fatal", "trace", "verbose", "err", "deb", "information", "warnings", " info", "info ", "info\n"}) {
    EXPECT_FALSE(ParseLogLevel(text, &level)) << '"' << text << '"';
  }
}

// --- Minimum level -----------------------------------------------------------

// Restores the process-wide minimum level after each test.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = MinLogLevel(); }
  void TearDown() override { SetMinLogLevel(saved_); }

 private:
  LogLevel saved_ = LogLevel::kInfo;
};

TEST_F(LoggingTest, SetMinLogLevelRoundTrips) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    SetMinLogLevel(level);
    EXPECT_EQ(MinLogLevel(), level);
  }
}

TEST_F(LoggingTest, ParsedLevelCanBeSet) {
  LogLevel level = LogLevel::kInfo;
  ASSERT_TRUE(ParseLogLevel("error", &level));
  SetMinLogLevel(level);
  EXPECT_EQ(MinLogLevel(), LogLevel::kError);
}

// --- Output ------------------------------------------------------------------

TEST_F(LoggingTest, MessageBelowMinLevelIsNotWrittenNorEvaluated) {
  SetMinLogLevel(LogLevel::kWarning);
  int evaluated = 0;
  auto side_effect = [&evaluated] {
    ++evaluated;
    return "side effect";
  };

  testing::internal::CaptureStderr();
  MOQSTATS_LOG(DEBUG) << "debug message " << side_effect();
  MOQSTATS_LOG(INFO) << "info message " << side_effect();
  std::string output = testing::internal::GetCapturedStderr();

  EXPECT_THAT(output, IsEmpty());
  EXPECT_EQ(evaluated, 0);
}

TEST_F(LoggingTest, MessageAtMinLevelIsWritten) {
  SetMinLogLevel(LogLevel::kWarning);

  testing::internal::CaptureStderr();
  MOQSTATS_LOG(WARNING) << "origin refused "
                        << "room/1" << ' ' << 42;
  std::string output = testing::internal::GetCapturedStderr();

  EXPECT_THAT(output, HasSubstr("WARNING"));
  EXPECT_THAT(output, HasSubstr("logging_test.cc:"));
  EXPECT_THAT(output, HasSubstr("origin refused room/1 42"));
}

TEST_F(LoggingTest, MessageAboveMinLevelIsWritten) {
  SetMinLogLevel(LogLevel::kInfo);

  testing::internal::CaptureStderr();
  MOQSTATS_LOG(ERROR) << "tier overflow";
  std::string output = testing::internal::GetCapturedStderr();

  EXPECT_THAT(output, HasSubstr("ERROR"));
  EXPECT_THAT(output, HasSubstr("logging_test.cc:"));
  EXPECT_THAT(output, HasSubstr("tier overflow"));
}

TEST_F(LoggingTest, EveryLevelWritesItsOwnName) {
  SetMinLogLevel(LogLevel::kDebug);

  testing::internal::CaptureStderr();
  MOQSTATS_LOG(DEBUG) << "d";
  std::string debug = testing::internal::GetCapturedStderr();
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(INFO) << "i";
  std::string info = testing::internal::GetCapturedStderr();
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(WARNING) << "w";
  std::string warning = testing::internal::GetCapturedStderr();
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(ERROR) << "e";
  std::string error = testing::internal::GetCapturedStderr();

  EXPECT_THAT(debug, HasSubstr(" DEBUG "));
  EXPECT_THAT(info, HasSubstr(" INFO "));
  EXPECT_THAT(warning, HasSubstr(" WARNING "));
  EXPECT_THAT(error, HasSubstr(" ERROR "));
  EXPECT_THAT(info, Not(HasSubstr("DEBUG")));
}

TEST_F(LoggingTest, LineHasTimestampLevelBasenameLineAndMessage) {
  SetMinLogLevel(LogLevel::kInfo);

  testing::internal::CaptureStderr();
  const int line = __LINE__ + 1;
  MOQSTATS_LOG(INFO) << "snapshot sent";
  std::string output = testing::internal::GetCapturedStderr();

  // Exactly one line.
  EXPECT_THAT(output, EndsWith("\n"));
  EXPECT_EQ(output.find('\n'), output.size() - 1);
  // The file's basename, not the path it was compiled from.
  EXPECT_THAT(output, HasSubstr(" logging_test.cc:" + std::to_string(line) + "] "));
  EXPECT_THAT(output, Not(HasSubstr("tests/common/")));
  EXPECT_THAT(output, EndsWith("] snapshot sent\n"));
  // A UTC timestamp comes first, then the level.
  EXPECT_THAT(output, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z INFO .*\n"));
}

TEST_F(LoggingTest, RaisingTheLevelSilencesLowerMessages) {
  SetMinLogLevel(LogLevel::kDebug);
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(DEBUG) << "before";
  std::string before = testing::internal::GetCapturedStderr();
  EXPECT_THAT(before, HasSubstr("before"));

  SetMinLogLevel(LogLevel::kError);
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(DEBUG) << "after";
  MOQSTATS_LOG(WARNING) << "after";
  std::string after = testing::internal::GetCapturedStderr();
  EXPECT_THAT(after, IsEmpty());
}

// --- Peer text --------------------------------------------------------------

TEST(LogSafeTest, EscapesControlCharactersQuotesAndBackslashes) {
  EXPECT_EQ(LogSafe("plain/path-1"), "plain/path-1");
  EXPECT_EQ(LogSafe("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(LogSafe(std::string("nul\0\x1b[31m\x7f", 10)), "nul\\x00\\x1b[31m\\x7f");
  EXPECT_EQ(LogSafe("say \"hi\" \\ bye"), "say \\\"hi\\\" \\\\ bye");
  // UTF-8 is kept as it is.
  EXPECT_EQ(LogSafe("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST_F(LoggingTest, PeerTextCannotForgeALine) {
  SetMinLogLevel(LogLevel::kInfo);
  const std::string id = "s1\n2026-01-01T00:00:00.000Z ERROR forged.cc:1] \"owned\"";
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(INFO) << "session \"" << LogSafe(id) << "\" expired";
  std::string output = testing::internal::GetCapturedStderr();
  EXPECT_EQ(output.find('\n'), output.size() - 1) << output;
  EXPECT_THAT(output, HasSubstr("session \"s1\\n2026-01-01T00:00:00.000Z ERROR forged.cc:1] \\\"owned\\\"\" expired"));
}

TEST_F(LoggingTest, EveryMessageIsOneLineEvenWithoutLogSafe) {
  SetMinLogLevel(LogLevel::kInfo);
  testing::internal::CaptureStderr();
  MOQSTATS_LOG(INFO) << "first\nsecond\r\x1b";
  std::string output = testing::internal::GetCapturedStderr();
  EXPECT_EQ(output.find('\n'), output.size() - 1) << output;
  EXPECT_THAT(output, EndsWith("] first\\nsecond\\r\\x1b\n"));
}

}  // namespace
}  // namespace moq_stats
