#ifndef MOQ_STATS_COMMON_JSON_SERIALIZE_H_
#define MOQ_STATS_COMMON_JSON_SERIALIZE_H_

// The compact JSON text of a Value, as serde_json's to_string writes it: no
// whitespace, object members in the object's order, strings escaped as
// AppendJsonString (common/json_string.h) does, integers in plain decimal
// (never an exponent), doubles in the shortest form that reads back to the
// same double, with ".0" added when that form has neither '.' nor an
// exponent (so 2.0 is "2.0", 1e21 is "1e+21").

#include <string>

#include "common/json/value.h"

namespace moq_stats::json {

// Appends the text of `value` to `out`.
void AppendSerialized(const Value& value, std::string* out);

std::string Serialize(const Value& value);

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_SERIALIZE_H_
