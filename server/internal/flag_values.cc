#include "server/internal/flag_values.h"

#include <limits>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace moq_stats::server::internal {

namespace {

// Strict decimal: digits only (no sign, no whitespace), at most `max`.
// False with *overflow = false when `text` is not a whole number, with
// *overflow = true when it is one above `max`.
bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* out, bool* overflow) {
  *overflow = false;
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : text) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      *overflow = true;
      return false;
    }
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

absl::Status ParseNumber(const std::string& who, const std::string& text, uint64_t max, uint64_t* out) {
  bool overflow = false;
  if (ParseDecimal(text, max, out, &overflow)) return absl::OkStatus();
  if (overflow) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is out of range (at most ", max, ")"));
  }
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not a whole number"));
}

}  // namespace

std::string Quoted(const std::string& text) { return absl::StrCat("\"", absl::CHexEscape(text), "\""); }

absl::Status ParseUint32(const std::string& who, const std::string& text, uint32_t* out) {
  uint64_t value = 0;
  absl::Status s = ParseNumber(who, text, std::numeric_limits<uint32_t>::max(), &value);
  if (s.ok()) *out = static_cast<uint32_t>(value);
  return s;
}

absl::Status ParseUint64(const std::string& who, const std::string& text, uint64_t* out) {
  return ParseNumber(who, text, std::numeric_limits<uint64_t>::max(), out);
}

absl::Status ParseDurationValue(const std::string& who, const std::string& text, absl::Duration* out) {
  absl::Duration d;
  uint64_t seconds = 0;
  bool overflow = false;
  if (ParseDecimal(text, std::numeric_limits<int64_t>::max(), &seconds, &overflow)) {
    d = absl::Seconds(static_cast<int64_t>(seconds));
  } else if (overflow) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is out of range"));
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, ": ", Quoted(text), " is not a duration (like \"10s\", \"500ms\", \"1m30s\"; a plain number is seconds)"));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not a finite duration"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is negative"));
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseBool(const std::string& who, const std::string& text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(who, ": ", Quoted(text), " is not true or false"));
  }
  return absl::OkStatus();
}

absl::Status ParseLogLevelValue(const std::string& who, const std::string& text, LogLevel* out) {
  if (ParseLogLevel(text, out)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(who, ": ", Quoted(text), " is not a log level (debug, info, warning, error)"));
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace moq_stats::server::internal
