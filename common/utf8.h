#ifndef MOQSTATS_COMMON_UTF8_H_
#define MOQSTATS_COMMON_UTF8_H_

#include <cstddef>
#include <string_view>

namespace moqstats {

// The length (1 to 4) of the well-formed UTF-8 sequence starting at s[i], or
// 0 when the bytes there are not one: overlong forms, surrogates, code points
// above U+10FFFF and cut-off sequences are not. Requires i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// True when `s` is well-formed UTF-8 throughout.
bool IsValidUtf8(std::string_view s);

}  // namespace moqstats

#endif  // MOQSTATS_COMMON_UTF8_H_
