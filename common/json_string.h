#ifndef MOQ_STATS_COMMON_JSON_STRING_H_
#define MOQ_STATS_COMMON_JSON_STRING_H_

#include <string>
#include <string_view>

namespace moq_stats {

// Appends `s` to `out` as a JSON string literal escaped as serde_json does:
// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters below
// 0x20 as `\u00XX` (lower-case hex), everything else (DEL and non-ASCII UTF-8
// included) as is. Bytes that are not well-formed UTF-8 are written as
// `\ufffd`, so the result is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace moq_stats

#endif  // MOQ_STATS_COMMON_JSON_STRING_H_
