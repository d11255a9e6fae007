#include "common/json/merge_patch.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "common/json/parse.h"
#include "common/json/serialize.h"
#include "gtest/gtest.h"

namespace moq_stats::json {
namespace {

Value J(std::string_view text) {
  absl::StatusOr<Value> value = Parse(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *std::move(value) : Value();
}

// Diffs old → new, checks the patch (order-insensitive) and that applying
// it to old gives new.
void ExpectPatch(std::string_view old_text, std::string_view new_text, std::string_view patch_text) {
  const Value old_value = J(old_text);
  const Value new_value = J(new_text);
  const MergePatch diff = Diff(old_value, new_value);
  EXPECT_FALSE(diff.forced) << old_text << " -> " << new_text;
  EXPECT_EQ(diff.patch, J(patch_text)) << old_text << " -> " << new_text << " gave " << Serialize(diff.patch);
  Value applied = old_value;
  Apply(&applied, diff.patch);
  EXPECT_EQ(applied, new_value) << old_text << " -> " << new_text;
}

void ExpectForced(std::string_view old_text, std::string_view new_text) {
  EXPECT_TRUE(Diff(J(old_text), J(new_text)).forced) << old_text << " -> " << new_text;
}

TEST(MergePatchDiffTest, AChangedScalarIsTheOnlyMember) {
  ExpectPatch(R"({"bytes":100,"frames":4})", R"({"bytes":100,"frames":5})", R"({"frames":5})");
}

TEST(MergePatchDiffTest, AnAddedMemberIsTheOnlyMember) {
  ExpectPatch(R"({"x":"keep"})", R"({"x":"keep","y":false})", R"({"y":false})");
}

TEST(MergePatchDiffTest, ARemovedMemberBecomesNullWithoutForcing) {
  ExpectPatch(R"({"x":1,"gone":"soon"})", R"({"x":1})", R"({"gone":null})");
}

TEST(MergePatchDiffTest, ANestedChangeCarriesOnlyTheChangedSubMember) {
  ExpectPatch(R"({"cam":{"groups":7,"datagrams":0},"mic":{"groups":1}})",
              R"({"cam":{"groups":8,"datagrams":0},"mic":{"groups":1}})", R"({"cam":{"groups":8}})");
  ExpectPatch(R"({"a":{"b":{"c":1,"d":2}}})", R"({"a":{"b":{"c":1,"d":3,"e":4}}})", R"({"a":{"b":{"d":3,"e":4}}})");
}

TEST(MergePatchDiffTest, AnObjectReplacedByAScalarIsTheScalar) {
  ExpectPatch(R"({"room":{"open":true}})", R"({"room":"closed"})", R"({"room":"closed"})");
  ExpectPatch(R"({"room":"closed"})", R"({"room":{"open":true}})", R"({"room":{"open":true}})");
}

TEST(MergePatchDiffTest, ANewTopLevelObjectAmongUnchangedOnesIsTheOnlyMember) {
  ExpectPatch(R"({"tracks":{"video":{}},"meta":{"title":""}})",
              R"({"tracks":{"video":{}},"meta":{"title":""},"owner":{"id":42,"tags":["x"]}})",
              R"({"owner":{"id":42,"tags":["x"]}})");
}

TEST(MergePatchDiffTest, AGrownArrayIsSentWhole) {
  ExpectPatch(R"({"hops":["sjc","lax"]})", R"({"hops":["sjc","lax","fra"]})", R"({"hops":["sjc","lax","fra"]})");
  ExpectPatch(R"({"hops":["sjc","lax"]})", R"({"hops":["lax"]})", R"({"hops":["lax"]})");
  ExpectPatch(R"({"m":[[1],{"a":1}]})", R"({"m":[[1],{"a":2}]})", R"({"m":[[1],{"a":2}]})");
}

TEST(MergePatchDiffTest, ANewArrayIsAPlainAddition) {
  ExpectPatch(R"({"n":0})", R"({"n":0,"list":[{"k":"v"}]})", R"({"list":[{"k":"v"}]})");
}

TEST(MergePatchDiffTest, UnchangedIsAnEmptyPatch) {
  for (const char* text : {R"({})", R"({"a":[1,{"b":null}],"c":{"d":{}}})", "5", "null", "[1]", R"("s")"}) {
    const MergePatch diff = Diff(J(text), J(text));
    EXPECT_TRUE(diff.unchanged()) << text;
    EXPECT_EQ(diff.patch, Value(Object())) << text;
  }
  // Member order and the number's form are not changes.
  EXPECT_TRUE(Diff(J(R"({"a":1,"b":2})"), J(R"({"b":2.0,"a":1})")).unchanged());
}

TEST(MergePatchDiffTest, SettingAMemberToNullIsForced) {
  ExpectForced(R"({"a":1})", R"({"a":null})");
  ExpectForced(R"({"a":{"b":1}})", R"({"a":{"b":null}})");
  ExpectForced(R"({})", R"({"a":null})");
  // Inside an added or replacing object, Apply would drop the null too.
  ExpectForced(R"({})", R"({"a":{"b":{"c":null}}})");
  ExpectForced(R"({"a":1})", R"({"a":{"b":null}})");
}

TEST(MergePatchDiffTest, NullsThatThePatchNeedNotCarryAreNotForced) {
  ExpectPatch(R"({"a":null})", R"({"a":null,"b":1})", R"({"b":1})");
  ExpectPatch(R"({"a":[1]})", R"({"a":[null]})", R"({"a":[null]})");
  ExpectPatch(R"({"a":null})", R"({})", R"({"a":null})");
}

TEST(MergePatchDiffTest, ARootThatIsNotAnObjectIsForcedWhenItChanges) {
  for (auto [from, to] :
       {std::pair{"[1]", "[2]"}, {"1", R"({})"}, {R"({})", "1"}, {"null", R"({"a":1})"}, {"1", "2"}}) {
    const MergePatch diff = Diff(J(from), J(to));
    EXPECT_TRUE(diff.forced) << from << " -> " << to;
    EXPECT_EQ(diff.patch, J(to));
  }
}

TEST(MergePatchDiffTest, RemovedMembersComeLast) {
  const MergePatch diff = Diff(J(R"({"a":1,"b":2,"c":3})"), J(R"({"c":4,"a":1,"d":5})"));
  EXPECT_EQ(Serialize(diff.patch), R"({"c":4,"d":5,"b":null})");
}

TEST(MergePatchApplyTest, FollowsRfc7396) {
  // The RFC's own examples of section 3 and appendix A, in short.
  const auto applied = [](std::string_view target, std::string_view patch) {
    Value value = J(target);
    Apply(&value, J(patch));
    return value;
  };
  EXPECT_EQ(applied(R"({"a":"b"})", R"({"a":"c"})"), J(R"({"a":"c"})"));
  EXPECT_EQ(applied(R"({"a":"b"})", R"({"b":"c"})"), J(R"({"a":"b","b":"c"})"));
  EXPECT_EQ(applied(R"({"a":"b"})", R"({"a":null})"), J(R"({})"));
  EXPECT_EQ(applied(R"({"a":"b","b":"c"})", R"({"a":null})"), J(R"({"b":"c"})"));
  EXPECT_EQ(applied(R"({"a":["b"]})", R"({"a":"c"})"), J(R"({"a":"c"})"));
  EXPECT_EQ(applied(R"({"a":"c"})", R"({"a":["b"]})"), J(R"({"a":["b"]})"));
  EXPECT_EQ(applied(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"), J(R"({"a":{"b":"d"}})"));
  EXPECT_EQ(applied(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), J(R"({"a":[1]})"));
  EXPECT_EQ(applied(R"(["a","b"])", R"(["c","d"])"), J(R"(["c","d"])"));
  EXPECT_EQ(applied(R"({"a":"b"})", R"(["c"])"), J(R"(["c"])"));
  EXPECT_EQ(applied(R"({"a":"foo"})", "null"), J("null"));
  EXPECT_EQ(applied(R"({"a":"foo"})", R"("bar")"), J(R"("bar")"));
  EXPECT_EQ(applied(R"({"e":null})", R"({"a":1})"), J(R"({"e":null,"a":1})"));
  EXPECT_EQ(applied(R"([1,2])", R"({"a":"b","c":null})"), J(R"({"a":"b"})"));
  EXPECT_EQ(applied(R"({})", R"({"a":{"bb":{"ccc":null}}})"), J(R"({"a":{"bb":{}}})"));
}

TEST(MergePatchApplyTest, NewMembersAreAppendedAndRemovalsKeepTheOrder) {
  Value value = J(R"({"a":1,"b":2,"c":3,"d":4})");
  Apply(&value, J(R"({"e":5,"b":null,"d":null,"a":0})"));
  EXPECT_EQ(Serialize(value), R"({"a":0,"c":3,"e":5})");
}

// A random JSON value, objects biased to keep keys from a small set so that
// two values share structure.
class RandomJson {
 public:
  explicit RandomJson(uint32_t seed) : rng_(seed) {}

  Value Object_(int depth) {
    Object object;
    const int members = Below(depth > 0 ? 6 : 4);
    for (int i = 0; i < members; ++i) object.Set(Key(), Any(depth - 1));
    return Value(std::move(object));
  }

  Value Any(int depth) {
    switch (Below(depth > 0 ? 8 : 5)) {
      case 0:
        return Value();
      case 1:
        return Value(Below(2) == 1);
      case 2:
        return Value(Below(5) - 2);
      case 3:
        return Value(std::string(1, static_cast<char>('p' + Below(3))));
      case 4:
        return Value(Below(4) * 0.5);
      case 5: {
        Value::Array array;
        const int n = Below(3);
        for (int i = 0; i < n; ++i) array.push_back(Any(depth - 1));
        return Value(std::move(array));
      }
      default:
        return Object_(depth);
    }
  }

  // `value` with some members changed, added or removed, at every level.
  Value Mutate(const Value& value, int depth) {
    if (!value.is_object() || Below(4) == 0) return Below(3) == 0 ? Any(depth) : value;
    Object object;
    for (const Object::Member& member : value.as_object()) {
      if (Below(6) == 0) continue;  // removed
      object.Append(member.key, Below(3) == 0 ? Mutate(member.value, depth - 1) : member.value);
    }
    if (Below(3) == 0) object.Set(Key(), Any(depth - 1));
    return Value(std::move(object));
  }

 private:
  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Key() { return std::string(1, static_cast<char>('a' + Below(6))); }

  std::mt19937 rng_;
};

TEST(MergePatchPropertyTest, ApplyOfDiffGivesTheNewValue) {
  RandomJson random(20260822);
  int checked = 0;
  int forced = 0;
  for (int round = 0; round < 5000; ++round) {
    const Value old_value = random.Object_(4);
    const Value new_value = random.Mutate(old_value, 4);
    const MergePatch diff = Diff(old_value, new_value);
    if (diff.forced) {
      ++forced;
      continue;
    }
    Value applied = old_value;
    Apply(&applied, diff.patch);
    ASSERT_EQ(applied, new_value) << "old " << Serialize(old_value) << "\nnew " << Serialize(new_value) << "\npatch "
                                  << Serialize(diff.patch);
    EXPECT_EQ(diff.unchanged(), old_value == new_value);
    ++checked;
  }
  // Both kinds occur: the generator makes nulls often enough.
  EXPECT_GT(checked, 2000);
  EXPECT_GT(forced, 200);
}

// A forced diff is forced for a reason: the patch, applied, would not give
// the new value (or the root is not an object).
TEST(MergePatchPropertyTest, ForcedOnlyWhenThePatchCannotSayIt) {
  RandomJson random(7);
  for (int round = 0; round < 5000; ++round) {
    const Value old_value = random.Object_(3);
    const Value new_value = random.Mutate(old_value, 3);
    const MergePatch diff = Diff(old_value, new_value);
    if (!diff.forced || !new_value.is_object()) continue;
    Value applied = old_value;
    Apply(&applied, diff.patch);
    EXPECT_NE(applied, new_value) << "old " << Serialize(old_value) << "\nnew " << Serialize(new_value);
  }
}

}  // namespace
}  // namespace moq_stats::json
