#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {

size_t VarintLength(uint64_t value) {
  if (value <= 0x3f) return 1;
  if (value <= 0x3fff) return 2;
  if (value <= 0x3fffffff) return 4;
  if (value <= kMaxVarint) return 8;
  return 0;
}

bool AppendVarintWithLength(uint64_t value, size_t length, std::string* out) {
  uint8_t prefix = 0;
  switch (length) {
    case 1:
      prefix = 0x00;
      break;
    case 2:
      prefix = 0x40;
      break;
    case 4:
      prefix = 0x80;
      break;
    case 8:
      prefix = 0xc0;
      break;
    default:
      return false;
  }
  if (VarintLength(value) == 0 || VarintLength(value) > length) return false;
  char buf[8];
  for (size_t i = 0; i < length; ++i) {
    buf[length - 1 - i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
  buf[0] = static_cast<char>(static_cast<uint8_t>(buf[0]) | prefix);
  out->append(buf, length);
  return true;
}

bool AppendVarint(uint64_t value, std::string* out) {
  const size_t length = VarintLength(value);
  if (length == 0) return false;
  return AppendVarintWithLength(value, length, out);
}

VarintRead ReadVarint(std::string_view bytes) {
  VarintRead read;
  if (bytes.empty()) return read;
  const uint8_t first = static_cast<uint8_t>(bytes[0]);
  read.length = size_t{1} << (first >> 6);
  if (bytes.size() < read.length) return read;
  uint64_t value = first & 0x3f;
  for (size_t i = 1; i < read.length; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  read.value = value;
  read.complete = true;
  return read;
}

}  // namespace moq_stats::qmux
