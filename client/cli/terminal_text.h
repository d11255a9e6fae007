#ifndef MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_
#define MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_

// Text from outside (relay-chosen level keys and paths, the sidecar's error
// messages) made safe to print on a terminal, and measured and cut in
// terminal columns. Pure functions, no I/O.

#include <cstddef>
#include <string>
#include <string_view>

namespace moq_stats {
namespace cli {

// `text` with everything that could act on a terminal or hide or reorder
// what is shown written as a visible escape, so that what is printed is
// exactly what the text holds:
//   - the C0 controls, DEL and the C1 controls (U+0080..U+009F): \t \n \r,
//     else \xNN (bytes below 0x80) or \u0085 (C1);
//   - the bidirectional formatting characters, which reorder what follows
//     them on the line (U+061C, U+200E, U+200F, U+202A..U+202E,
//     U+2066..U+2069): \u202e ...;
//   - the line and paragraph separators U+2028 and U+2029, and the
//     invisible U+200B, U+2060, U+FEFF and the tag characters
//     U+E0000..U+E007F (\U000e0041);
//   - bytes that are not well-formed UTF-8: \xNN;
//   - a backslash itself: \\ (so that an escape cannot be faked).
// Everything else, well-formed UTF-8 included, is kept as is.
std::string TerminalSafe(std::string_view text);

// The columns `text` (TerminalSafe's output) takes on a terminal: two for
// East Asian wide and fullwidth characters (CJK, Hangul, fullwidth forms,
// most emoji), none for combining marks, zero-width joiners and variation
// selectors, one for every other character. A fixed table, so that layout
// does not depend on the locale; a terminal whose own table differs may
// draw such a character a column off.
size_t TerminalWidth(std::string_view text);

// `text` (TerminalSafe's output) cut to at most `width` columns, never
// inside a character: kept whole when it fits, else its start and "…".
std::string FitStart(std::string_view text, size_t width);

// As FitStart, keeping the end instead: "…" and the end of `text`. For
// paths, whose last segments tell them apart.
std::string FitEnd(std::string_view text, size_t width);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_
