#include "common/json/parse.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::json {
namespace {

using ::testing::HasSubstr;

Value MustParse(std::string_view text) {
  absl::StatusOr<Value> value = Parse(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *std::move(value) : Value();
}

// The error message of parsing `text`, which must fail.
std::string ParseError(std::string_view text, const ParseOptions& options = {}) {
  absl::StatusOr<Value> value = Parse(text, options);
  EXPECT_FALSE(value.ok()) << text;
  if (value.ok()) return "";
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(value.status().message());
}

TEST(ParseTest, Scalars) {
  EXPECT_EQ(MustParse("null"), Value());
  EXPECT_EQ(MustParse("true"), Value(true));
  EXPECT_EQ(MustParse("false"), Value(false));
  EXPECT_EQ(MustParse("\"hi\""), Value("hi"));
  EXPECT_EQ(MustParse(" \t\r\n42 \n"), Value(42));
}

TEST(ParseTest, ObjectsKeepTheirOrder) {
  const Value value = MustParse(R"({"zeta": 1, "alpha": {"x": [true, null]}, "mid": "m"})");
  ASSERT_TRUE(value.is_object());
  const Object& object = value.as_object();
  ASSERT_EQ(object.size(), 3u);
  EXPECT_EQ(object.member(0).key, "zeta");
  EXPECT_EQ(object.member(1).key, "alpha");
  EXPECT_EQ(object.member(2).key, "mid");
  const Value& x = *object.Find("alpha")->as_object().Find("x");
  EXPECT_EQ(x, Value(Value::Array{true, nullptr}));
  EXPECT_EQ(MustParse("{}"), Value(Object()));
  EXPECT_EQ(MustParse("[ ]"), Value(Value::Array{}));
}

TEST(ParseTest, ARepeatedKeyKeepsTheFirstPlaceAndTheLastValue) {
  const Value value = MustParse(R"({"a":1,"b":2,"a":3})");
  const Object& object = value.as_object();
  ASSERT_EQ(object.size(), 2u);
  EXPECT_EQ(object.member(0).key, "a");
  EXPECT_EQ(object.member(0).value, Value(3));
}

TEST(ParseTest, IntegersAreExactUpToTheirTypesLimits) {
  const Value max_u64 = MustParse("18446744073709551615");
  ASSERT_TRUE(max_u64.is_uint64());
  EXPECT_EQ(max_u64.as_uint64(), std::numeric_limits<uint64_t>::max());
  const Value min_i64 = MustParse("-9223372036854775808");
  ASSERT_TRUE(min_i64.is_int64());
  EXPECT_EQ(min_i64.as_int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustParse("9007199254740993").as_uint64(), 9007199254740993u);
  EXPECT_EQ(MustParse("-1").as_int64(), -1);
  EXPECT_TRUE(MustParse("0").is_uint64());
}

TEST(ParseTest, OtherNumbersAreDoubles) {
  const Value past_u64 = MustParse("18446744073709551616");
  ASSERT_TRUE(past_u64.is_double());
  EXPECT_EQ(past_u64.as_double(), 18446744073709551616.0);
  const Value past_i64 = MustParse("-9223372036854775809");
  ASSERT_TRUE(past_i64.is_double());
  EXPECT_TRUE(MustParse("1.0").is_double());
  EXPECT_EQ(MustParse("1.5").as_double(), 1.5);
  EXPECT_EQ(MustParse("-2.5e3").as_double(), -2500.0);
  EXPECT_EQ(MustParse("1E+2").as_double(), 100.0);
  EXPECT_EQ(MustParse("0.1").as_double(), 0.1);
  const Value minus_zero = MustParse("-0");
  ASSERT_TRUE(minus_zero.is_double());
  EXPECT_TRUE(std::signbit(minus_zero.as_double()));
  // Below the smallest double: zero; above the largest: an error.
  EXPECT_EQ(MustParse("1e-400").as_double(), 0.0);
  EXPECT_EQ(MustParse("0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001")
                .as_double(),
            0.0);
  EXPECT_THAT(ParseError("1e400"), HasSubstr("number out of range at offset 0"));
  EXPECT_THAT(ParseError("[1, -1e400]"), HasSubstr("number out of range at offset 4"));
}

TEST(ParseTest, StringEscapes) {
  EXPECT_EQ(MustParse(R"("\"\\\/\b\f\n\r\t")"), Value("\"\\/\b\f\n\r\t"));
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20AC")"), Value("A\xc3\xa9\xe2\x82\xac"));
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")"), Value("\xf0\x9f\x98\x80"));
  EXPECT_EQ(MustParse(R"("\u0000")"), Value(std::string("\0", 1)));
  EXPECT_EQ(MustParse("\"caf\xc3\xa9 \xf0\x9f\x98\x80\""), Value("caf\xc3\xa9 \xf0\x9f\x98\x80"));
}

TEST(ParseTest, BadStrings) {
  EXPECT_THAT(ParseError(R"("\ud83d")"), HasSubstr("unpaired surrogate escape at offset 1"));
  EXPECT_THAT(ParseError(R"("\ude00")"), HasSubstr("unpaired surrogate escape at offset 1"));
  EXPECT_THAT(ParseError(R"("\ud83d\u0041")"), HasSubstr("unpaired surrogate escape"));
  EXPECT_THAT(ParseError(R"("\x41")"), HasSubstr("invalid escape at offset 1"));
  EXPECT_THAT(ParseError(R"("\u12g4")"), HasSubstr("invalid \\u escape"));
  EXPECT_THAT(ParseError("\"a\tb\""), HasSubstr("control character in a string at offset 2"));
  EXPECT_THAT(ParseError("\"a\xff\""), HasSubstr("invalid UTF-8 at offset 2"));
  EXPECT_THAT(ParseError("\"\xed\xa0\x80\""), HasSubstr("invalid UTF-8"));  // an encoded surrogate
  EXPECT_THAT(ParseError("\"\xc0\xaf\""), HasSubstr("invalid UTF-8"));      // overlong
  EXPECT_THAT(ParseError("\"abc"), HasSubstr("unexpected end of input at offset 4"));
  EXPECT_THAT(ParseError("\"\\u12"), HasSubstr("unexpected end of input"));
}

TEST(ParseTest, BadNumbers) {
  EXPECT_THAT(ParseError("01"), HasSubstr("leading zero in a number at offset 1"));
  EXPECT_THAT(ParseError("-01"), HasSubstr("leading zero"));
  EXPECT_THAT(ParseError("+1"), HasSubstr("expected a value at offset 0"));
  EXPECT_THAT(ParseError("-"), HasSubstr("unexpected end of input at offset 1"));
  EXPECT_THAT(ParseError("-a"), HasSubstr("expected a digit at offset 1"));
  EXPECT_THAT(ParseError("1."), HasSubstr("expected a digit after '.' at offset 2"));
  EXPECT_THAT(ParseError(".5"), HasSubstr("expected a value"));
  EXPECT_THAT(ParseError("1e"), HasSubstr("expected a digit in the exponent at offset 2"));
  EXPECT_THAT(ParseError("1e+"), HasSubstr("expected a digit in the exponent"));
  EXPECT_THAT(ParseError("NaN"), HasSubstr("expected a value"));
  EXPECT_THAT(ParseError("Infinity"), HasSubstr("expected a value"));
  EXPECT_THAT(ParseError("0x10"), HasSubstr("trailing characters after the value at offset 1"));
}

TEST(ParseTest, BadStructure) {
  EXPECT_THAT(ParseError(""), HasSubstr("unexpected end of input at offset 0"));
  EXPECT_THAT(ParseError("   "), HasSubstr("unexpected end of input at offset 3"));
  EXPECT_THAT(ParseError("[1,]"), HasSubstr("expected a value at offset 3"));
  EXPECT_THAT(ParseError(R"({"a":1,})"), HasSubstr("expected a string key at offset 7"));
  EXPECT_THAT(ParseError("{a:1}"), HasSubstr("expected a string key at offset 1"));
  EXPECT_THAT(ParseError(R"({"a" 1})"), HasSubstr("expected ':' at offset 5"));
  EXPECT_THAT(ParseError(R"({"a":1 "b":2})"), HasSubstr("expected ',' or '}' at offset 7"));
  EXPECT_THAT(ParseError("[1 2]"), HasSubstr("expected ',' or ']' at offset 3"));
  EXPECT_THAT(ParseError("[1"), HasSubstr("unexpected end of input at offset 2"));
  EXPECT_THAT(ParseError(R"({"a":)"), HasSubstr("unexpected end of input at offset 5"));
  EXPECT_THAT(ParseError("{} {}"), HasSubstr("trailing characters after the value at offset 3"));
  EXPECT_THAT(ParseError("tru"), HasSubstr("invalid literal at offset 0"));
  EXPECT_THAT(ParseError("nul1"), HasSubstr("invalid literal"));
  EXPECT_THAT(ParseError("truex"), HasSubstr("trailing characters"));
  EXPECT_THAT(ParseError("/* c */ 1"), HasSubstr("expected a value"));
  EXPECT_THAT(ParseError("'a'"), HasSubstr("expected a value"));
  EXPECT_THAT(ParseError("\xef\xbb\xbf{}"), HasSubstr("expected a value at offset 0"));  // a BOM
  EXPECT_THAT(ParseError("1\f"), HasSubstr("trailing characters"));                      // not JSON whitespace
}

TEST(ParseTest, DepthLimit) {
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(Parse(nested(128)).ok());
  EXPECT_THAT(ParseError(nested(129)), HasSubstr("nested too deeply at offset 128"));
  std::string objects;
  for (int i = 0; i < 129; ++i) objects += R"({"a":)";
  objects += "1" + std::string(129, '}');
  EXPECT_THAT(ParseError(objects), HasSubstr("nested too deeply at offset 640"));

  ParseOptions shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(Parse("[[1]]", shallow).ok());
  EXPECT_THAT(ParseError("[[[1]]]", shallow), HasSubstr("nested too deeply at offset 2"));
  EXPECT_THAT(ParseError(R"({"a":[{}]})", shallow), HasSubstr("nested too deeply at offset 6"));
  // A very deep document fails at the limit rather than exhausting the stack.
  EXPECT_THAT(ParseError(std::string(1 << 20, '[')), HasSubstr("nested too deeply at offset 128"));
}

}  // namespace
}  // namespace moq_stats::json
