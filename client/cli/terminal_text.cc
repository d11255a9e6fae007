#include "client/cli/terminal_text.h"

#include <cstdint>
#include <vector>

#include "common/utf8.h"

namespace moq_stats {
namespace cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kEllipsis = "\xe2\x80\xa6";  // U+2026, one column

struct Range {
  char32_t first;
  char32_t last;
};

bool InRanges(char32_t c, const Range* ranges, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (c >= ranges[i].first && c <= ranges[i].last) return true;
  }
  return false;
}

// Shown as escapes by TerminalSafe (beside the C0 controls and DEL).
constexpr Range kEscaped[] = {
    {0x0080, 0x009F},    // C1 controls
    {0x061C, 0x061C},    // ARABIC LETTER MARK
    {0x200B, 0x200B},    // ZERO WIDTH SPACE
    {0x200E, 0x200F},    // LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
    {0x2028, 0x2029},    // LINE and PARAGRAPH SEPARATOR
    {0x202A, 0x202E},    // LRE, RLE, PDF, LRO, RLO
    {0x2060, 0x2060},    // WORD JOINER
    {0x2066, 0x2069},    // LRI, RLI, FSI, PDI
    {0xFEFF, 0xFEFF},    // ZERO WIDTH NO-BREAK SPACE
    {0xE0000, 0xE007F},  // tag characters
};

// No column: combining marks, zero-width (non-)joiners, variation selectors.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x200C, 0x200D}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

// Two columns: East Asian wide and fullwidth.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
    {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
    {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
    {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F2FF},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

template <size_t N>
bool In(char32_t c, const Range (&ranges)[N]) {
  return InRanges(c, ranges, N);
}

// The code point of the well-formed sequence of `len` bytes at s[i].
char32_t Decode(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  switch (len) {
    case 1:
      return b(0);
    case 2:
      return (char32_t(b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return (char32_t(b(0) & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return (char32_t(b(0) & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) | (char32_t(b(2) & 0x3F) << 6) |
             (b(3) & 0x3F);
  }
}

void AppendHex(char32_t value, int digits, std::string* out) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out->push_back(kHex[(value >> shift) & 0xF]);
}

size_t CharWidth(char32_t c) {
  if (In(c, kZeroWidth)) return 0;
  if (In(c, kWide)) return 2;
  return 1;
}

// The characters of `text` (assumed safe), each as its bytes and width.
struct Piece {
  size_t begin;
  size_t end;
  size_t width;
};
std::vector<Piece> Pieces(std::string_view text) {
  std::vector<Piece> out;
  for (size_t i = 0; i < text.size();) {
    size_t len = Utf8SequenceLength(text, i);
    if (len == 0) len = 1;  // not from TerminalSafe; counted as one column
    out.push_back({i, i + len, len == 1 ? 1 : CharWidth(Decode(text, i, len))});
    i += len;
  }
  return out;
}

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0 || b < 0x20 || b == 0x7F) {
      if (b == '\t') {
        out += "\\t";
      } else if (b == '\n') {
        out += "\\n";
      } else if (b == '\r') {
        out += "\\r";
      } else {
        out += "\\x";
        AppendHex(b, 2, &out);
      }
      ++i;
      continue;
    }
    if (b == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    const char32_t c = Decode(text, i, len);
    if (In(c, kEscaped)) {
      out += c > 0xFFFF ? "\\U" : "\\u";
      AppendHex(c, c > 0xFFFF ? 8 : 4, &out);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

size_t TerminalWidth(std::string_view text) {
  size_t width = 0;
  for (const Piece& p : Pieces(text)) width += p.width;
  return width;
}

std::string FitStart(std::string_view text, size_t width) {
  const std::vector<Piece> pieces = Pieces(text);
  size_t total = 0;
  for (const Piece& p : pieces) total += p.width;
  if (total <= width) return std::string(text);
  if (width == 0) return "";
  // Whole characters while they leave a column for the ellipsis.
  size_t used = 0, end = 0;
  for (const Piece& p : pieces) {
    if (used + p.width > width - 1) break;
    used += p.width;
    end = p.end;
  }
  return std::string(text.substr(0, end)).append(kEllipsis);
}

std::string FitEnd(std::string_view text, size_t width) {
  const std::vector<Piece> pieces = Pieces(text);
  size_t total = 0;
  for (const Piece& p : pieces) total += p.width;
  if (total <= width) return std::string(text);
  if (width == 0) return "";
  size_t used = 0, begin = text.size();
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    if (used + it->width > width - 1) break;
    used += it->width;
    begin = it->begin;
  }
  // A combining mark left at the front would join the ellipsis: drop it.
  while (begin < text.size()) {
    const size_t len = Utf8SequenceLength(text, begin);
    if (len <= 1 || CharWidth(Decode(text, begin, len)) != 0) break;
    begin += len;
  }
  return std::string(kEllipsis).append(text.substr(begin));
}

}  // namespace cli
}  // namespace moq_stats
