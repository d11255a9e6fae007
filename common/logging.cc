#include "common/logging.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace moq_stats {
namespace {

// Read on every log call and written rarely; relaxed is enough since no other
// data is published through it.
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

// Appends `c` escaped when it is a control character (or, with `quotes`, a
// backslash or a double quote); as is otherwise.
void AppendEscaped(char c, bool quotes, std::string& out) {
  const unsigned char u = static_cast<unsigned char>(c);
  switch (c) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\\':
    case '"':
      if (quotes) out += '\\';
      out += c;
      return;
    default:
      break;
  }
  if (u < 0x20 || u == 0x7f) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[u >> 4];
    out += kHex[u & 0xf];
    return;
  }
  out += c;
}

}  // namespace

std::string LogSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) AppendEscaped(c, true, out);
  return out;
}

void SetMinLogLevel(LogLevel level) { g_min_level.store(static_cast<int>(level), std::memory_order_relaxed); }

LogLevel MinLogLevel() { return static_cast<LogLevel>(g_min_level.load(std::memory_order_relaxed)); }

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  if (text == "debug") {
    *out = LogLevel::kDebug;
    return true;
  }
  if (text == "info") {
    *out = LogLevel::kInfo;
    return true;
  }
  if (text == "warning" || text == "warn") {
    *out = LogLevel::kWarning;
    return true;
  }
  if (text == "error") {
    *out = LogLevel::kError;
    return true;
  }
  return false;
}

namespace internal {

std::string EscapeControl(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) AppendEscaped(c, false, out);
  return out;
}

LogMessage::LogMessage(LogLevel level, const char* file, int line) : level_(level) {
  std::string_view name(file);
  size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  stream_ << absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()) << ' ' << LevelName(level_)
          << ' ' << name << ':' << line << "] ";
}

LogMessage::~LogMessage() {
  std::string text = EscapeControl(stream_.str());
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace internal
}  // namespace moq_stats
