#include "common/json/value.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "absl/hash/hash.h"

namespace moq_stats::json {
namespace {

// 2^64 and -2^63 as doubles (both exact).
constexpr double kTwoTo64 = 18446744073709551616.0;
constexpr double kMinusTwoTo63 = -9223372036854775808.0;

bool DoubleEqualsUint64(double d, uint64_t u) {
  return d >= 0 && d < kTwoTo64 && std::trunc(d) == d && static_cast<uint64_t>(d) == u;
}

bool DoubleEqualsInt64(double d, int64_t i) {
  return d < 0 && d >= kMinusTwoTo63 && std::trunc(d) == d && static_cast<int64_t>(d) == i;
}

bool NumbersEqual(const Value& a, const Value& b) {
  if (a.is_double() && b.is_double()) return a.as_double() == b.as_double();
  if (a.is_double())
    return b.is_uint64() ? DoubleEqualsUint64(a.as_double(), b.as_uint64())
                         : DoubleEqualsInt64(a.as_double(), b.as_int64());
  if (b.is_double()) return NumbersEqual(b, a);
  // Both integers: zero and above is always uint64, below zero int64.
  if (a.is_uint64() != b.is_uint64()) return false;
  return a.is_uint64() ? a.as_uint64() == b.as_uint64() : a.as_int64() == b.as_int64();
}

size_t HashKey(std::string_view key) { return absl::Hash<std::string_view>{}(key); }

}  // namespace

Value::Value(double d) {
  if (std::isfinite(d)) data_ = d;
}

Value::Value(std::string s) : data_(std::make_unique<std::string>(std::move(s))) {}
Value::Value(Array array) : data_(std::make_unique<Array>(std::move(array))) {}
Value::Value(Object object) : data_(std::make_unique<Object>(std::move(object))) {}

Value::Value(const Value& other) { *this = other; }

Value& Value::operator=(const Value& other) {
  if (this == &other) return *this;
  switch (other.type()) {
    case Type::kString:
      data_ = std::make_unique<std::string>(other.as_string());
      break;
    case Type::kArray:
      data_ = std::make_unique<Array>(other.as_array());
      break;
    case Type::kObject:
      data_ = std::make_unique<Object>(other.as_object());
      break;
    case Type::kNull:
      data_ = std::monostate{};
      break;
    case Type::kBool:
      data_.emplace<bool>(other.as_bool());
      break;
    case Type::kNumber:
      if (other.is_uint64()) {
        data_ = other.as_uint64();
      } else if (other.is_int64()) {
        data_ = other.as_int64();
      } else {
        data_ = other.as_double();
      }
      break;
  }
  return *this;
}

Value::~Value() = default;

Value::Type Value::type() const {
  switch (data_.index()) {
    case 0:
      return Type::kNull;
    case 1:
      return Type::kBool;
    case 2:
    case 3:
    case 4:
      return Type::kNumber;
    case 5:
      return Type::kString;
    case 6:
      return Type::kArray;
    default:
      return Type::kObject;
  }
}

double Value::as_double() const {
  if (is_uint64()) return static_cast<double>(as_uint64());
  if (is_int64()) return static_cast<double>(as_int64());
  return std::get<double>(data_);
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Type::kNumber:
      return NumbersEqual(a, b);
    case Value::Type::kString:
      return a.as_string() == b.as_string();
    case Value::Type::kArray:
      return a.as_array() == b.as_array();
    case Value::Type::kObject:
      return a.as_object() == b.as_object();
  }
  return false;
}

Object Object::Sorted(std::vector<Member> members) {
  std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.key < b.key; });
  Object object;
  object.members_.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    // Of equal keys, now adjacent and in their input order, keep the last.
    if (i + 1 < members.size() && members[i + 1].key == members[i].key) continue;
    object.members_.push_back(std::move(members[i]));
  }
  object.RebuildIndex();
  return object;
}

size_t Object::IndexOf(std::string_view key) const {
  if (index_.empty()) {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].key == key) return i;
    }
    return kNotFound;
  }
  const size_t mask = index_.size() - 1;
  for (size_t slot = HashKey(key) & mask;; slot = (slot + 1) & mask) {
    const uint32_t entry = index_[slot];
    if (entry == 0) return kNotFound;
    if (members_[entry - 1].key == key) return entry - 1;
  }
}

const Value* Object::Find(std::string_view key) const {
  const size_t i = IndexOf(key);
  return i == kNotFound ? nullptr : &members_[i].value;
}

Value* Object::Find(std::string_view key) {
  const size_t i = IndexOf(key);
  return i == kNotFound ? nullptr : &members_[i].value;
}

Value& Object::Set(std::string key, Value value) {
  const size_t i = IndexOf(key);
  if (i != kNotFound) return members_[i].value = std::move(value);
  return Append(std::move(key), std::move(value));
}

Value& Object::Append(std::string key, Value value) {
  assert(!Contains(key));
  assert(members_.size() < UINT32_MAX);
  members_.push_back(Member{std::move(key), std::move(value)});
  if (members_.size() > kIndexedSize) {
    if (index_.empty() || 2 * members_.size() > index_.size()) {
      RebuildIndex();
    } else {
      IndexInsert(static_cast<uint32_t>(members_.size() - 1));
    }
  }
  return members_.back().value;
}

bool Object::Erase(std::string_view key) {
  const size_t i = IndexOf(key);
  if (i == kNotFound) return false;
  members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(i));
  RebuildIndex();
  return true;
}

void Object::EraseAt(std::vector<size_t> positions) {
  if (positions.empty()) return;
  std::vector<bool> erase(members_.size());
  for (size_t i : positions) erase[i] = true;
  size_t kept = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (erase[i]) continue;
    if (kept != i) members_[kept] = std::move(members_[i]);
    ++kept;
  }
  members_.resize(kept);
  RebuildIndex();
}

void Object::SortKeys() {
  std::sort(members_.begin(), members_.end(), [](const Member& a, const Member& b) { return a.key < b.key; });
  RebuildIndex();
}

void Object::RebuildIndex() {
  index_.clear();
  if (members_.size() <= kIndexedSize) {
    index_.shrink_to_fit();
    return;
  }
  size_t slots = 64;
  while (slots < 2 * members_.size()) slots *= 2;
  index_.assign(slots, 0);
  for (size_t i = 0; i < members_.size(); ++i) IndexInsert(static_cast<uint32_t>(i));
}

void Object::IndexInsert(uint32_t position) {
  const size_t mask = index_.size() - 1;
  size_t slot = HashKey(members_[position].key) & mask;
  while (index_[slot] != 0) slot = (slot + 1) & mask;
  index_[slot] = position + 1;
}

bool operator==(const Object& a, const Object& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Object::Member& m = a.members_[i];
    // Objects built the same way have their keys in the same order.
    const size_t j = b.members_[i].key == m.key ? i : b.IndexOf(m.key);
    if (j == Object::kNotFound || b.members_[j].value != m.value) return false;
  }
  return true;
}

}  // namespace moq_stats::json
