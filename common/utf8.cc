#include "common/utf8.h"

#include <string>
#include <vector>

namespace moq_stats {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

std::string PrintableText(std::string_view s, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::string_view kCut = "...";
  std::string out;
  std::vector<size_t> ends;  // where each piece (a character or an escape) ends
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0 || b < 0x20 || b == 0x7f) {
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 0xf]};
      i += 1;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
    ends.push_back(out.size());
    if (out.size() > max_bytes) {
      // Drop whole pieces until the marker fits.
      while (!ends.empty() && ends.back() + kCut.size() > max_bytes) ends.pop_back();
      out.resize(ends.empty() ? 0 : ends.back());
      if (kCut.size() <= max_bytes) out.append(kCut);
      return out;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace moq_stats
