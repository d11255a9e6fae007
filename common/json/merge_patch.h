#ifndef MOQ_STATS_COMMON_JSON_MERGE_PATCH_H_
#define MOQ_STATS_COMMON_JSON_MERGE_PATCH_H_

// JSON Merge Patch (RFC 7396): the patch that turns one value into another,
// and applying a patch. This is what the delta frames of the moq-json
// snapshot encoding carry.

#include "common/json/value.h"

namespace moq_stats::json {

// What Diff found.
struct MergePatch {
  // An object of the changed members: a member added or changed in value is
  // the new value, a member whose value is an object in both is the patch
  // of the two objects (only the changed sub-members), an array that
  // changed in any way is the whole new array, and a removed member is
  // null. Members appear in the new value's order, removed ones last.
  Value patch;

  // True when `patch` cannot express the change, so the value has to be
  // sent whole: a root that is not an object on either side and changed
  // (`patch` is then the new value), or a null anywhere in the new value
  // that the patch would have to carry (a member set to null, a null
  // inside an added or replacing object), which applying would read as a
  // removal. Nulls inside arrays do not force anything.
  bool forced = false;

  // Nothing changed: the values are equal.
  bool unchanged() const { return !forced && patch.is_object() && patch.as_object().empty(); }
};

// The merge patch from `old_value` to `new_value`. Walks both values once;
// members are matched by key, cheaply when both objects list their common
// keys in the same order. Unless `forced`, Apply(old_value, patch) equals
// new_value.
MergePatch Diff(const Value& old_value, const Value& new_value);

// Applies `patch` to `*target` in place, as RFC 7396 says: an object patch
// merges member by member into the target (a target that is not an object
// is first made an empty object), null removes the member, an object
// recurses, anything else replaces; a patch that is not an object replaces
// the target. New members are appended. `patch` must not be part of
// `*target`.
void Apply(Value* target, const Value& patch);

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_MERGE_PATCH_H_
