#ifndef MOQ_STATS_COMMON_JSON_VALUE_H_
#define MOQ_STATS_COMMON_JSON_VALUE_H_

// A JSON value (RFC 8259): null, bool, number, string, array or object.
//
// Numbers keep integers exact: an integer is held as a uint64_t (zero and
// above) or an int64_t (below zero), anything else as a finite double.
// Two numbers are equal when they denote the same mathematical value, so 3
// equals 3.0 (as in JavaScript). A non-finite double (NaN, infinity) has no
// JSON form: constructing a Value from one gives null.
//
// Objects keep their members in insertion order; Object::Sorted builds one
// in byte-wise key order (the order of a Rust BTreeMap). Equality of objects
// ignores member order.
//
// Scalars are held inline; strings, arrays and objects on the heap, so a
// Value is 16 bytes and moving one never copies its contents. Copying is
// deep.
//
// Recursive operations (copy, equality, the serializer, merge patches)
// recurse once per nesting level: values from Parse are bounded by its
// depth limit, values a caller builds must be reasonably shallow.
//
// Not thread-safe; a Value that no thread modifies may be read from many.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace moq_stats::json {

class Object;

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : data_(std::in_place_type<bool>, b) {}
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T n) {
    if constexpr (std::is_signed_v<T>) {
      if (n < 0) {
        data_ = static_cast<int64_t>(n);
        return;
      }
    }
    data_ = static_cast<uint64_t>(n);
  }
  Value(double d);
  Value(std::string s);
  Value(std::string_view s) : Value(std::string(s)) {}
  Value(const char* s) : Value(std::string(s)) {}
  // Other pointers would silently become bools.
  Value(const void*) = delete;
  Value(Array array);
  Value(Object object);

  Value(const Value& other);
  Value& operator=(const Value& other);
  Value(Value&&) noexcept = default;
  Value& operator=(Value&&) noexcept = default;
  ~Value();

  Type type() const;
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Numbers. is_uint64 / is_int64 / is_double say how the number is held:
  // an integer from 0 to 2^64-1, an integer from -2^63 to -1, or a double.
  bool is_uint64() const { return std::holds_alternative<uint64_t>(data_); }
  bool is_int64() const { return std::holds_alternative<int64_t>(data_); }
  bool is_double() const { return std::holds_alternative<double>(data_); }
  // Each requires the matching is_*() (as_double: any number, rounded).
  uint64_t as_uint64() const { return std::get<uint64_t>(data_); }
  int64_t as_int64() const { return std::get<int64_t>(data_); }
  double as_double() const;

  // Each requires the matching is_*().
  bool as_bool() const { return std::get<bool>(data_); }
  const std::string& as_string() const { return *std::get<std::unique_ptr<std::string>>(data_); }
  std::string& as_string() { return *std::get<std::unique_ptr<std::string>>(data_); }
  const Array& as_array() const { return *std::get<std::unique_ptr<Array>>(data_); }
  Array& as_array() { return *std::get<std::unique_ptr<Array>>(data_); }
  const Object& as_object() const { return *std::get<std::unique_ptr<Object>>(data_); }
  Object& as_object() { return *std::get<std::unique_ptr<Object>>(data_); }

  // Deep equality; see the file comment for numbers and member order.
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  // The alternatives' order is Type's, numbers spread over three.
  std::variant<std::monostate, bool, uint64_t, int64_t, double, std::unique_ptr<std::string>, std::unique_ptr<Array>,
               std::unique_ptr<Object>>
      data_;
};

// A JSON object: members in insertion order, keys unique. Lookups by key
// are linear in small objects and go through a hash index (kept up to date
// on every change) in objects of more than kIndexedSize members.
class Object {
 public:
  struct Member {
    std::string key;
    Value value;
  };
  using const_iterator = std::vector<Member>::const_iterator;
  static constexpr size_t kNotFound = static_cast<size_t>(-1);
  static constexpr size_t kIndexedSize = 32;

  Object() = default;

  // An object holding `members` in byte-wise ascending key order. When a key
  // occurs more than once the last occurrence wins.
  static Object Sorted(std::vector<Member> members);

  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  const_iterator begin() const { return members_.begin(); }
  const_iterator end() const { return members_.end(); }
  // Requires i < size().
  const Member& member(size_t i) const { return members_[i]; }
  Value& mutable_value(size_t i) { return members_[i].value; }

  // The position of `key`, or kNotFound.
  size_t IndexOf(std::string_view key) const;
  // The value of `key`, or nullptr. The pointer lives until the next change
  // to the object's members (not to the values).
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  bool Contains(std::string_view key) const { return IndexOf(key) != kNotFound; }

  // Sets `key` to `value`: in place when the key is present, else appended.
  Value& Set(std::string key, Value value);
  // Appends a member whose key must not be present (checked by assert).
  Value& Append(std::string key, Value value);
  // Removes `key`; false when it was not present. Linear in size().
  bool Erase(std::string_view key);
  // Removes the members at `positions` (each < size(), any order,
  // duplicates allowed) in one pass, keeping the others' order.
  void EraseAt(std::vector<size_t> positions);
  // Orders the members by byte-wise ascending key.
  void SortKeys();
  void Reserve(size_t n) { members_.reserve(n); }

  // Same keys with equal values, in any order.
  friend bool operator==(const Object& a, const Object& b);
  friend bool operator!=(const Object& a, const Object& b) { return !(a == b); }

 private:
  void RebuildIndex();
  void IndexInsert(uint32_t position);

  std::vector<Member> members_;
  // Open addressing, linear probing: each slot is 0 (empty) or a member's
  // position + 1. Empty while size() <= kIndexedSize; otherwise at least
  // twice size() slots, a power of two.
  std::vector<uint32_t> index_;
};

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_VALUE_H_
