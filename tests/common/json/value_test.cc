#include "common/json/value.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moq_stats::json {
namespace {

TEST(ValueTest, TypesOfEachConstructor) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value(false).is_bool());
  EXPECT_TRUE(Value(7).is_number());
  EXPECT_TRUE(Value(2.5).is_number());
  EXPECT_TRUE(Value("text").is_string());
  EXPECT_TRUE(Value(std::string("text")).is_string());
  EXPECT_TRUE(Value(Value::Array{1, 2}).is_array());
  EXPECT_TRUE(Value(Object()).is_object());
}

TEST(ValueTest, IsSmall) { EXPECT_EQ(sizeof(Value), 16u); }

TEST(ValueTest, IntegersAreKeptExact) {
  const Value max_u64(std::numeric_limits<uint64_t>::max());
  ASSERT_TRUE(max_u64.is_uint64());
  EXPECT_EQ(max_u64.as_uint64(), 18446744073709551615u);
  const Value min_i64(std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(min_i64.is_int64());
  EXPECT_EQ(min_i64.as_int64(), std::numeric_limits<int64_t>::min());
  // Zero and above is held unsigned whatever the C++ type was.
  EXPECT_TRUE(Value(int64_t{5}).is_uint64());
  EXPECT_TRUE(Value(-5).is_int64());
  // 2^53 + 1 is not a double, and stays itself.
  EXPECT_NE(Value(uint64_t{9007199254740993u}), Value(uint64_t{9007199254740992u}));
}

TEST(ValueTest, NumbersCompareByValue) {
  EXPECT_EQ(Value(3), Value(3.0));
  EXPECT_EQ(Value(-3), Value(-3.0));
  EXPECT_EQ(Value(0), Value(-0.0));
  EXPECT_NE(Value(3), Value(3.5));
  EXPECT_NE(Value(3), Value(-3));
  EXPECT_EQ(Value(uint64_t{1} << 63), Value(9223372036854775808.0));
  EXPECT_NE(Value(std::numeric_limits<uint64_t>::max()), Value(18446744073709551616.0));
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()), Value(-9223372036854775808.0));
  EXPECT_NE(Value(1), Value(true));
  EXPECT_NE(Value(0), Value());
}

TEST(ValueTest, NonFiniteDoublesAreNull) {
  EXPECT_TRUE(Value(std::numeric_limits<double>::quiet_NaN()).is_null());
  EXPECT_TRUE(Value(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_TRUE(Value(-std::numeric_limits<double>::infinity()).is_null());
}

TEST(ValueTest, CopiesAreDeep) {
  Object object;
  object.Append("list", Value::Array{1, "two"});
  Value original(std::move(object));
  Value copy = original;
  copy.as_object().Find("list")->as_array().push_back(3);
  EXPECT_EQ(original.as_object().Find("list")->as_array().size(), 2u);
  EXPECT_NE(copy, original);
  copy = original;
  EXPECT_EQ(copy, original);
}

TEST(ValueTest, ArraysCompareInOrder) {
  EXPECT_EQ(Value(Value::Array{1, 2}), Value(Value::Array{1, 2}));
  EXPECT_NE(Value(Value::Array{1, 2}), Value(Value::Array{2, 1}));
  EXPECT_NE(Value(Value::Array{1}), Value(Value::Array{1, 1}));
}

TEST(ObjectTest, KeepsInsertionOrderAndReplacesInPlace) {
  Object object;
  object.Append("b", 1);
  object.Append("a", 2);
  object.Set("c", 3);
  object.Set("b", 4);  // replaced where it was
  ASSERT_EQ(object.size(), 3u);
  EXPECT_EQ(object.member(0).key, "b");
  EXPECT_EQ(object.member(0).value, Value(4));
  EXPECT_EQ(object.member(1).key, "a");
  EXPECT_EQ(object.member(2).key, "c");
  EXPECT_EQ(object.IndexOf("c"), 2u);
  EXPECT_EQ(object.IndexOf("d"), Object::kNotFound);
  EXPECT_EQ(object.Find("d"), nullptr);
}

TEST(ObjectTest, EqualityIgnoresOrder) {
  Object ab;
  ab.Append("a", 1);
  ab.Append("b", 2);
  Object ba;
  ba.Append("b", 2);
  ba.Append("a", 1);
  EXPECT_EQ(ab, ba);
  ba.Set("a", 5);
  EXPECT_NE(ab, ba);
  Object a;
  a.Append("a", 1);
  EXPECT_NE(ab, a);
}

TEST(ObjectTest, SortedOrdersBytewiseAndKeepsTheLastOfEqualKeys) {
  std::vector<Object::Member> members;
  members.push_back({"acme", 1});
  members.push_back({"Acme", 2});
  members.push_back({"", 3});
  members.push_back({".internal/x", 4});
  members.push_back({"acme", 5});
  const Object object = Object::Sorted(std::move(members));
  std::vector<std::string> keys;
  for (const Object::Member& m : object) keys.push_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"", ".internal/x", "Acme", "acme"}));
  EXPECT_EQ(*object.Find("acme"), Value(5));
}

TEST(ObjectTest, SortKeys) {
  Object object;
  object.Append("zeta", 1);
  object.Append("alpha", 2);
  object.Append("mid", 3);
  object.SortKeys();
  EXPECT_EQ(object.member(0).key, "alpha");
  EXPECT_EQ(object.member(2).key, "zeta");
  EXPECT_EQ(*object.Find("mid"), Value(3));
}

// Past kIndexedSize members lookups go through the hash index; it has to
// follow every change.
TEST(ObjectTest, LargeObjectsStayFindableThroughEveryChange) {
  constexpr int kCount = 1000;
  Object object;
  for (int i = 0; i < kCount; ++i) object.Append("key" + std::to_string(i), i);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(object.IndexOf("key" + std::to_string(i)), static_cast<size_t>(i));
  EXPECT_FALSE(object.Contains("key1000"));

  std::vector<size_t> odd;
  for (size_t i = 1; i < kCount; i += 2) odd.push_back(i);
  object.EraseAt(odd);
  ASSERT_EQ(object.size(), static_cast<size_t>(kCount / 2));
  for (int i = 0; i < kCount; ++i) {
    const Value* value = object.Find("key" + std::to_string(i));
    if (i % 2 == 1) {
      EXPECT_EQ(value, nullptr) << i;
    } else {
      ASSERT_NE(value, nullptr) << i;
      EXPECT_EQ(*value, Value(i));
    }
  }
  EXPECT_TRUE(object.Erase("key0"));
  EXPECT_FALSE(object.Erase("key0"));
  EXPECT_EQ(object.member(0).key, "key2");
  EXPECT_EQ(object.IndexOf("key998"), object.size() - 1);

  // Down to a few members (no index) and up again.
  std::vector<size_t> all_but_three;
  for (size_t i = 3; i < object.size(); ++i) all_but_three.push_back(i);
  object.EraseAt(all_but_three);
  EXPECT_EQ(object.size(), 3u);
  EXPECT_EQ(*object.Find("key6"), Value(6));
  for (int i = 0; i < 100; ++i) object.Set("new" + std::to_string(i), i);
  EXPECT_EQ(object.IndexOf("new99"), 102u);
  EXPECT_EQ(*object.Find("key4"), Value(4));

  const Object copy = object;
  EXPECT_EQ(copy.IndexOf("new50"), 53u);
  EXPECT_EQ(copy, object);
}

TEST(ObjectTest, EraseAtTakesAnyOrderAndDuplicates) {
  Object object;
  for (const char* key : {"a", "b", "c", "d"}) object.Append(key, 0);
  object.EraseAt({3, 0, 3});
  ASSERT_EQ(object.size(), 2u);
  EXPECT_EQ(object.member(0).key, "b");
  EXPECT_EQ(object.member(1).key, "c");
}

}  // namespace
}  // namespace moq_stats::json
