#include "common/json/merge_patch.h"

#include <utility>
#include <vector>

namespace moq_stats::json {
namespace {

// Whether `value`, put in a patch as is, carries a null that Apply would
// read as a removal: the value itself, or one in an object member (nulls in
// arrays are kept: arrays replace whole).
bool CarriesNull(const Value& value) {
  if (value.is_null()) return true;
  if (!value.is_object()) return false;
  for (const Object::Member& member : value.as_object()) {
    if (CarriesNull(member.value)) return true;
  }
  return false;
}

void Replace(const Object::Member& member, Object* patch, bool* forced) {
  if (CarriesNull(member.value)) *forced = true;
  patch->Append(member.key, member.value);
}

void DiffObjects(const Object& old_object, const Object& new_object, Object* patch, bool* forced) {
  size_t matched = 0;  // members of new_object found in old_object
  size_t cursor = 0;   // where the next key is expected in old_object
  for (const Object::Member& member : new_object) {
    const size_t i = cursor < old_object.size() && old_object.member(cursor).key == member.key
                         ? cursor
                         : old_object.IndexOf(member.key);
    if (i == Object::kNotFound) {
      Replace(member, patch, forced);
      continue;
    }
    ++matched;
    cursor = i + 1;
    const Value& old_value = old_object.member(i).value;
    if (old_value.is_object() && member.value.is_object()) {
      Object sub_patch;
      DiffObjects(old_value.as_object(), member.value.as_object(), &sub_patch, forced);
      if (!sub_patch.empty()) patch->Append(member.key, Value(std::move(sub_patch)));
    } else if (old_value != member.value) {
      Replace(member, patch, forced);
    }
  }
  // Keys are unique, so every old member was matched unless some went.
  if (matched == old_object.size()) return;
  cursor = 0;
  for (const Object::Member& member : old_object) {
    const size_t i = cursor < new_object.size() && new_object.member(cursor).key == member.key
                         ? cursor
                         : new_object.IndexOf(member.key);
    if (i == Object::kNotFound) {
      patch->Append(member.key, Value());
    } else {
      cursor = i + 1;
    }
  }
}

}  // namespace

MergePatch Diff(const Value& old_value, const Value& new_value) {
  MergePatch result;
  if (old_value.is_object() && new_value.is_object()) {
    Object patch;
    DiffObjects(old_value.as_object(), new_value.as_object(), &patch, &result.forced);
    result.patch = Value(std::move(patch));
  } else if (old_value == new_value) {
    result.patch = Value(Object());
  } else {
    result.patch = new_value;
    result.forced = true;
  }
  return result;
}

void Apply(Value* target, const Value& patch) {
  if (!patch.is_object()) {
    *target = patch;
    return;
  }
  if (!target->is_object()) *target = Value(Object());
  Object& object = target->as_object();
  std::vector<size_t> removed;
  for (const Object::Member& member : patch.as_object()) {
    const size_t i = object.IndexOf(member.key);
    if (member.value.is_null()) {
      if (i != Object::kNotFound) removed.push_back(i);
    } else if (i != Object::kNotFound) {
      Apply(&object.mutable_value(i), member.value);
    } else {
      Value added;
      Apply(&added, member.value);
      object.Append(member.key, std::move(added));
    }
  }
  object.EraseAt(std::move(removed));
}

}  // namespace moq_stats::json
