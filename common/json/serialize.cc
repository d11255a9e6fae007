#include "common/json/serialize.h"

#include <charconv>
#include <string_view>

#include "common/json_string.h"

namespace moq_stats::json {
namespace {

template <typename T>
void AppendNumber(T n, std::string* out) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, static_cast<size_t>(result.ptr - buf));
}

void AppendDouble(double d, std::string* out) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), d);
  const std::string_view text(buf, static_cast<size_t>(result.ptr - buf));
  out->append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

}  // namespace

void AppendSerialized(const Value& value, std::string* out) {
  switch (value.type()) {
    case Value::Type::kNull:
      out->append("null");
      return;
    case Value::Type::kBool:
      out->append(value.as_bool() ? "true" : "false");
      return;
    case Value::Type::kNumber:
      if (value.is_uint64()) {
        AppendNumber(value.as_uint64(), out);
      } else if (value.is_int64()) {
        AppendNumber(value.as_int64(), out);
      } else {
        AppendDouble(value.as_double(), out);
      }
      return;
    case Value::Type::kString:
      AppendJsonString(value.as_string(), out);
      return;
    case Value::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& element : value.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendSerialized(element, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Object::Member& member : value.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(member.key, out);
        out->push_back(':');
        AppendSerialized(member.value, out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string Serialize(const Value& value) {
  std::string out;
  AppendSerialized(value, &out);
  return out;
}

}  // namespace moq_stats::json
