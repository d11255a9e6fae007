#ifndef MOQ_STATS_SERVER_INTERNAL_FLAG_VALUES_H_
#define MOQ_STATS_SERVER_INTERNAL_FLAG_VALUES_H_

// The values the daemon's flags and their environment variables take, read
// from text and shown as text. `who` names where a value came from ("--grace"
// or "MOQ_STATS_GRACE"); every error is INVALID_ARGUMENT and starts with it.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/logging.h"

namespace moq_stats::server::internal {

// `text` in double quotes, C-escaped, for an error message.
std::string Quoted(const std::string& text);

// Strict decimal: digits only (no sign, no whitespace), within the type.
absl::Status ParseUint32(const std::string& who, const std::string& text, uint32_t* out);
absl::Status ParseUint64(const std::string& who, const std::string& text, uint64_t* out);

// A Go-style duration ("500ms", "1m30s") or a plain number of seconds;
// finite and not negative.
absl::Status ParseDurationValue(const std::string& who, const std::string& text, absl::Duration* out);

// true/1 or false/0.
absl::Status ParseBool(const std::string& who, const std::string& text, bool* out);

// debug, info, warning (or warn), error.
absl::Status ParseLogLevelValue(const std::string& who, const std::string& text, LogLevel* out);
const char* LogLevelName(LogLevel level);

}  // namespace moq_stats::server::internal

#endif  // MOQ_STATS_SERVER_INTERNAL_FLAG_VALUES_H_
