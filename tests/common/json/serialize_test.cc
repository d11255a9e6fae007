#include "common/json/serialize.h"

#include <cstdint>
#include <limits>
#include <string>

#include "common/json/parse.h"
#include "common/json_string.h"
#include "gtest/gtest.h"

namespace moq_stats::json {
namespace {

TEST(SerializeTest, ScalarsAndContainersCompact) {
  EXPECT_EQ(Serialize(Value()), "null");
  EXPECT_EQ(Serialize(Value(true)), "true");
  EXPECT_EQ(Serialize(Value(false)), "false");
  EXPECT_EQ(Serialize(Value(Value::Array{})), "[]");
  EXPECT_EQ(Serialize(Value(Object())), "{}");
  Object inner;
  inner.Append("sessions", 5);
  inner.Append("sessions_closed", 3);
  Object outer;
  outer.Append("acme", std::move(inner));
  outer.Append("list", Value::Array{1, nullptr, "x", Value::Array{}});
  EXPECT_EQ(Serialize(Value(std::move(outer))),
            R"({"acme":{"sessions":5,"sessions_closed":3},"list":[1,null,"x",[]]})");
}

TEST(SerializeTest, KeysInTheObjectsOrder) {
  Object object;
  object.Append("b", 1);
  object.Append("a", 2);
  EXPECT_EQ(Serialize(Value(object)), R"({"b":1,"a":2})");
  object.SortKeys();
  EXPECT_EQ(Serialize(Value(object)), R"({"a":2,"b":1})");
}

TEST(SerializeTest, IntegersNeverTakeAnExponent) {
  EXPECT_EQ(Serialize(Value(0)), "0");
  EXPECT_EQ(Serialize(Value(-1)), "-1");
  EXPECT_EQ(Serialize(Value(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(Serialize(Value(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(Serialize(Value(uint64_t{10000000000000000000u})), "10000000000000000000");
}

TEST(SerializeTest, DoublesShortestAndStillDoubles) {
  EXPECT_EQ(Serialize(Value(1.5)), "1.5");
  EXPECT_EQ(Serialize(Value(0.1)), "0.1");
  EXPECT_EQ(Serialize(Value(2.0)), "2.0");
  EXPECT_EQ(Serialize(Value(-0.0)), "-0.0");
  EXPECT_EQ(Serialize(Value(1e21)), "1e+21");
  EXPECT_EQ(Serialize(Value(1.5e-7)), "1.5e-07");
  EXPECT_EQ(Serialize(Value(std::numeric_limits<double>::quiet_NaN())), "null");
  for (double d : {0.1, 1.0 / 3, 1e300, -2.5e-300, 123456789.125, 5e-324, 1.7976931348623157e308}) {
    const absl::StatusOr<Value> back = Parse(Serialize(Value(d)));
    ASSERT_TRUE(back.ok()) << d;
    ASSERT_TRUE(back->is_double()) << d;
    EXPECT_EQ(back->as_double(), d);
  }
}

TEST(SerializeTest, StringsEscapedAsAppendJsonString) {
  const std::string samples[] = {
      "plain",         "q\"b\\s", "\b\f\n\r\t", std::string("\x00\x01\x1f\x7f", 4), "/caf\xc3\xa9 \xf0\x9f\x98\x80",
      "bad \xff utf8",
  };
  for (const std::string& s : samples) {
    std::string expected;
    AppendJsonString(s, &expected);
    EXPECT_EQ(Serialize(Value(s)), expected);
    Object object;
    object.Append(s, 1);
    EXPECT_EQ(Serialize(Value(std::move(object))), "{" + expected + ":1}");
  }
  EXPECT_EQ(Serialize(Value("\x01\n\"")), R"("\u0001\n\"")");
}

TEST(SerializeTest, RoundTripsThroughTheParser) {
  const std::string text =
      R"({"a":[1,-2,3.25,"x\u0000y",{"b":null,"c":true}],"":{},"\u00e9":18446744073709551615,"n":-9223372036854775808})";
  const absl::StatusOr<Value> value = Parse(text);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(Serialize(*value),
            "{\"a\":[1,-2,3.25,\"x\\u0000y\",{\"b\":null,\"c\":true}],\"\":{},\"\xc3\xa9\":18446744073709551615,"
            "\"n\":-9223372036854775808}");
  const absl::StatusOr<Value> again = Parse(Serialize(*value));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *value);
}

TEST(SerializeTest, AppendsToWhatIsThere) {
  std::string out = "prefix:";
  AppendSerialized(Value(Value::Array{1, 2}), &out);
  EXPECT_EQ(out, "prefix:[1,2]");
}

}  // namespace
}  // namespace moq_stats::json
