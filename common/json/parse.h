#ifndef MOQ_STATS_COMMON_JSON_PARSE_H_
#define MOQ_STATS_COMMON_JSON_PARSE_H_

// A strict JSON parser (RFC 8259): one value surrounded by optional
// whitespace (space, tab, LF, CR) and nothing else. No comments, trailing
// commas, single quotes, leading zeros, '+' signs, NaN or Infinity. The
// text and every string in it must be well-formed UTF-8; \u escapes must
// pair their surrogates.
//
// Numbers without fraction or exponent that fit are integers (uint64 from 0
// up, int64 below 0); the rest are doubles, rounded to nearest ("-0" is the
// double -0.0). A double too large for the type is an error; one too small
// becomes zero.
//
// When an object repeats a key, the last value wins and the member keeps
// the first one's position (as JavaScript's JSON.parse).
//
// Errors are InvalidArgument, with a message naming what was wrong and the
// byte offset it was found at.

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/json/value.h"

namespace moq_stats::json {

struct ParseOptions {
  // Most arrays and objects one inside another ("[[1]]" is 2 deep).
  size_t max_depth = 128;
};

absl::StatusOr<Value> Parse(std::string_view text, const ParseOptions& options = {});

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_PARSE_H_
