#ifndef MOQ_STATS_COMMON_UTF8_H_
#define MOQ_STATS_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace moq_stats {

// The length (1 to 4) of the well-formed UTF-8 sequence starting at s[i], or
// 0 when the bytes there are not one: overlong forms, surrogates, code points
// above U+10FFFF and cut-off sequences are not. Requires i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// True when `s` is well-formed UTF-8 throughout.
bool IsValidUtf8(std::string_view s);

// Text from a peer (a close reason, an error message) made safe to log and
// to carry in a proto3 string: well-formed UTF-8 is kept, control
// characters and bytes that are not UTF-8 are written as \xNN, and the
// result is cut at a character boundary to at most `max_bytes` (then ends
// in "...").
std::string PrintableText(std::string_view s, size_t max_bytes = 256);

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_UTF8_H_
