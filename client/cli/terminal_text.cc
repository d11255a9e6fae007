#include "client/cli/terminal_text.h"

#include <cstdint>
#include <cstdio>

#include "common/utf8.h"

namespace moq_stats {
namespace cli {
namespace {

// The code point of the well-formed `len`-byte UTF-8 sequence at s[i].
uint32_t CodePoint(std::string_view s, size_t i, size_t len) {
  const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (len) {
    case 2:
      return ((byte(0) & 0x1f) << 6) | (byte(1) & 0x3f);
    case 3:
      return ((byte(0) & 0x0f) << 12) | ((byte(1) & 0x3f) << 6) | (byte(2) & 0x3f);
    default:
      return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3f) << 12) | ((byte(2) & 0x3f) << 6) | (byte(3) & 0x3f);
  }
}

bool IsEscapedCodePoint(uint32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

std::string TerminalText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char escape[8];
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out.append("\\\\");
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(escape, sizeof(escape), "\\x%02x", c);
      out.append(escape);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const size_t len = Utf8SequenceLength(text, i); len == 0) {
      std::snprintf(escape, sizeof(escape), "\\x%02x", c);
      out.append(escape);
      ++i;
    } else if (const uint32_t code_point = CodePoint(text, i, len); IsEscapedCodePoint(code_point)) {
      std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(code_point));
      out.append(escape);
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace cli
}  // namespace moq_stats
