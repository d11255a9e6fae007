#ifndef MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_
#define MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_

// Text a relay chose (paths, relay names, session ids) made safe to print on
// a terminal: nothing in it can move the cursor, recolour the screen or
// reorder what is shown around it.

#include <string>
#include <string_view>

namespace moq_stats {
namespace cli {

// `text` with
//   - C0 controls (ESC, CR, LF, ...), DEL and bytes that are not UTF-8 as
//     \xNN,
//   - C1 controls (U+0080..U+009F) and the bidirectional controls U+061C,
//     U+200E, U+200F, U+202A..U+202E and U+2066..U+2069 as \uNNNN,
//   - a backslash as \\ (so an escape in the output always means one),
// and every other character kept as it is.
std::string TerminalText(std::string_view text);

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TERMINAL_TEXT_H_
