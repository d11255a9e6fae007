#include "common/json/parse.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace moq_stats::json {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Whether a number token that std::from_chars found out of range is below
// the smallest double (rather than above the largest): its decimal exponent,
// counted from the first significant digit, is negative.
bool Underflows(std::string_view token) {
  size_t i = token[0] == '-' ? 1 : 0;
  int64_t exponent = 0;  // of the first significant digit
  bool seen_significant = false;
  bool after_point = false;
  for (; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
    if (token[i] == '.') {
      after_point = true;
    } else if (!seen_significant && token[i] == '0') {
      if (after_point) --exponent;
    } else if (!seen_significant) {
      seen_significant = true;
      if (after_point) --exponent;
    } else if (!after_point) {
      ++exponent;
    }
  }
  int64_t written = 0;  // the exponent part, saturated
  bool negative = false;
  if (i < token.size()) {
    ++i;
    if (token[i] == '+' || token[i] == '-') negative = token[i++] == '-';
    for (; i < token.size() && written < (int64_t{1} << 40); ++i) written = written * 10 + (token[i] - '0');
  }
  return exponent + (negative ? -written : written) < 0;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  absl::Status ParseDocument(Value* out) {
    SkipWhitespace();
    RETURN_IF_ERROR(ParseValue(out, 0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("trailing characters after the value");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const { return ErrorAt(what, pos_); }
  absl::Status ErrorAt(std::string_view what, size_t offset) const {
    return absl::InvalidArgumentError(
        absl::StrCat("json: ", absl::string_view(what.data(), what.size()), " at offset ", offset));
  }
  absl::Status EndOfInput() const { return Error("unexpected end of input"); }

  void SkipWhitespace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  absl::Status ParseValue(Value* out, size_t depth) {
    if (pos_ >= text_.size()) return EndOfInput();
    switch (text_[pos_]) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        RETURN_IF_ERROR(ParseString(&s));
        *out = Value(std::move(s));
        return absl::OkStatus();
      }
      case 't':
        return ParseLiteral("true", Value(true), out);
      case 'f':
        return ParseLiteral("false", Value(false), out);
      case 'n':
        return ParseLiteral("null", Value(), out);
      default:
        if (text_[pos_] == '-' || IsDigit(text_[pos_])) return ParseNumber(out);
        return Error("expected a value");
    }
  }

  absl::Status ParseLiteral(std::string_view word, Value value, Value* out) {
    if (text_.substr(pos_, word.size()) != word) return Error("invalid literal");
    pos_ += word.size();
    *out = std::move(value);
    return absl::OkStatus();
  }

  absl::Status ParseObject(Value* out, size_t depth) {
    if (depth > options_.max_depth) return Error("nested too deeply");
    ++pos_;  // '{'
    Object object;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *out = Value(std::move(object));
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (pos_ >= text_.size()) return EndOfInput();
      if (text_[pos_] != '"') return Error("expected a string key");
      std::string key;
      RETURN_IF_ERROR(ParseString(&key));
      SkipWhitespace();
      if (pos_ >= text_.size()) return EndOfInput();
      if (text_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      SkipWhitespace();
      Value value;
      RETURN_IF_ERROR(ParseValue(&value, depth));
      object.Set(std::move(key), std::move(value));
      SkipWhitespace();
      if (pos_ >= text_.size()) return EndOfInput();
      if (text_[pos_] == '}') break;
      if (text_[pos_] != ',') return Error("expected ',' or '}'");
      ++pos_;
    }
    ++pos_;  // '}'
    *out = Value(std::move(object));
    return absl::OkStatus();
  }

  absl::Status ParseArray(Value* out, size_t depth) {
    if (depth > options_.max_depth) return Error("nested too deeply");
    ++pos_;  // '['
    Value::Array array;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      *out = Value(std::move(array));
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      array.emplace_back();
      RETURN_IF_ERROR(ParseValue(&array.back(), depth));
      SkipWhitespace();
      if (pos_ >= text_.size()) return EndOfInput();
      if (text_[pos_] == ']') break;
      if (text_[pos_] != ',') return Error("expected ',' or ']'");
      ++pos_;
    }
    ++pos_;  // ']'
    *out = Value(std::move(array));
    return absl::OkStatus();
  }

  // Four hex digits at pos_, which moves past them.
  absl::Status ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return EndOfInput();
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const int d = HexDigit(text_[pos_]);
      if (d < 0) return Error("invalid \\u escape");
      v = v << 4 | static_cast<uint32_t>(d);
      ++pos_;
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string* out) {
    ++pos_;  // '"'
    while (true) {
      const size_t run = pos_;
      while (pos_ < text_.size()) {
        const unsigned char c = static_cast<unsigned char>(text_[pos_]);
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c < 0x80) {
          ++pos_;
          continue;
        }
        const size_t len = Utf8SequenceLength(text_, pos_);
        if (len == 0) return Error("invalid UTF-8");
        pos_ += len;
      }
      out->append(text_.data() + run, pos_ - run);
      if (pos_ >= text_.size()) return EndOfInput();
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c != '\\') return Error("control character in a string");
      const size_t escape = pos_++;
      if (pos_ >= text_.size()) return EndOfInput();
      switch (text_[pos_++]) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t unit = 0;
          RETURN_IF_ERROR(ParseHex4(&unit));
          if (unit >= 0xDC00 && unit <= 0xDFFF) return ErrorAt("unpaired surrogate escape", escape);
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return ErrorAt("unpaired surrogate escape", escape);
            pos_ += 2;
            RETURN_IF_ERROR(ParseHex4(&low));
            if (low < 0xDC00 || low > 0xDFFF) return ErrorAt("unpaired surrogate escape", escape);
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(unit, out);
          break;
        }
        default:
          return ErrorAt("invalid escape", escape);
      }
    }
  }

  absl::Status ParseNumber(Value* out) {
    const size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= text_.size()) return EndOfInput();
    if (!IsDigit(text_[pos_])) return Error("expected a digit");
    // The integer part: one 0, or digits not starting with 0.
    uint64_t magnitude = 0;
    bool overflow = false;
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < text_.size() && IsDigit(text_[pos_])) return Error("leading zero in a number");
    } else {
      for (; pos_ < text_.size() && IsDigit(text_[pos_]); ++pos_) {
        const uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) overflow = true;
        magnitude = magnitude * 10 + digit;
      }
    }
    bool integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Error("expected a digit after '.'");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Error("expected a digit in the exponent");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (integer && !overflow) {
      if (!negative) {
        *out = Value(magnitude);
        return absl::OkStatus();
      }
      if (magnitude != 0 && magnitude <= uint64_t{1} << 63) {
        // -magnitude, computed without overflowing at -2^63.
        *out = Value(static_cast<int64_t>(~(magnitude - 1)));
        return absl::OkStatus();
      }
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    double d = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
    if (ec == std::errc::result_out_of_range) {
      if (!Underflows(token)) return ErrorAt("number out of range", start);
      d = negative ? -0.0 : 0.0;
    } else if (ec != std::errc() || end != token.data() + token.size()) {
      return ErrorAt("invalid number", start);
    }
    *out = Value(d);
    return absl::OkStatus();
  }

  const std::string_view text_;
  const ParseOptions& options_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Value> Parse(std::string_view text, const ParseOptions& options) {
  Value value;
  RETURN_IF_ERROR(Parser(text, options).ParseDocument(&value));
  return value;
}

}  // namespace moq_stats::json
