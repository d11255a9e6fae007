#ifndef MOQ_STATS_CLIENT_CLI_JSON_OUT_H_
#define MOQ_STATS_CLIENT_CLI_JSON_OUT_H_

// Writing JSON by hand for moq-stats --json, always valid: strings escaped
// and made valid UTF-8, numbers that JSON can hold.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_string.h"

namespace moq_stats {
namespace cli {

// `v` as a JSON number: the shortest text that reads back as `v`; null for
// NaN and the infinities, which JSON cannot write.
std::string JsonNumber(double v);

// Whether `text` is exactly one JSON value (RFC 8259), surrounding
// whitespace allowed, strings valid UTF-8, nested at most 64 deep.
bool IsValidJson(std::string_view text);

// A JSON object written member by member:
//   JsonObject o; o.Add("a", 1).AddString("b", "x"); o.str() == R"({"a":1,"b":"x"})"
class JsonObject {
 public:
  JsonObject& AddString(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, uint64_t value);
  JsonObject& AddBool(std::string_view key, bool value);
  JsonObject& AddDouble(std::string_view key, double value);
  // `json` must be one valid JSON value; it is copied as is.
  JsonObject& AddRaw(std::string_view key, std::string_view json);

  // The object so far, closed.
  std::string str() const { return body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_ = "{";
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_JSON_OUT_H_
