#ifndef MOQ_STATS_COMMON_LOGGING_H_
#define MOQ_STATS_COMMON_LOGGING_H_

// A small leveled logger: one line per message on stderr, with a UTC
// timestamp and the level. Debian 12's Abseil has no absl/log, hence this.
//
//   MOQSTATS_LOG(WARNING) << "origin refused " << path;
//
// Safe for concurrent use; each message is written with one call. A message
// is always one line: control characters in it are written escaped.
//
// Text a peer chose (a session id, a relay name, a path, a status message
// quoting them) goes through LogSafe wherever it is logged, so that it can
// neither end the line nor the quotes around it.

#include <sstream>
#include <string>
#include <string_view>

namespace moq_stats {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
// Parses "debug", "info", "warning"/"warn", "error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);

// `text` with `\` and `"` escaped by a backslash and every control
// character (below 0x20, and 0x7f) written as `\n`, `\r`, `\t` or `\xHH`:
// printable, one line, and unable to close the quotes it is logged in. Other
// bytes are kept as they are.
std::string LogSafe(std::string_view text);

namespace internal {

// `text` with its control characters escaped as LogSafe does; backslashes
// and quotes kept. What every message goes through before it is written.
std::string EscapeControl(std::string_view text);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Lets the macro below discard the stream expression's value.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace internal
}  // namespace moq_stats

#define MOQSTATS_LOG_LEVEL_DEBUG ::moq_stats::LogLevel::kDebug
#define MOQSTATS_LOG_LEVEL_INFO ::moq_stats::LogLevel::kInfo
#define MOQSTATS_LOG_LEVEL_WARNING ::moq_stats::LogLevel::kWarning
#define MOQSTATS_LOG_LEVEL_ERROR ::moq_stats::LogLevel::kError

#define MOQSTATS_LOG(severity)                                 \
  (MOQSTATS_LOG_LEVEL_##severity < ::moq_stats::MinLogLevel()) \
      ? (void)0                                                \
      : ::moq_stats::internal::Voidify() &                     \
            ::moq_stats::internal::LogMessage(MOQSTATS_LOG_LEVEL_##severity, __FILE__, __LINE__).stream()

#endif  // MOQ_STATS_COMMON_LOGGING_H_
