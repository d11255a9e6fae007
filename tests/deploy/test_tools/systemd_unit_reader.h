#ifndef MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_SYSTEMD_UNIT_READER_H_
#define MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_SYSTEMD_UNIT_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace moq_stats::deploy::test {

// One `Key=value` of a unit file.
struct UnitSetting {
  std::string section;  // without the brackets
  std::string key;
  std::string value;
  int line = 0;  // 1-based, of the first physical line
};

// The settings of a systemd unit file, in order (a key may repeat). Comment
// lines ('#' or ';') are skipped, also inside a continued value; a line ending
// in a backslash continues on the next, the backslash becoming a space, as
// systemd.syntax(7) says. Fails, naming the line, on a setting outside a
// section or a line that is neither a section, a setting nor a comment.
absl::StatusOr<std::vector<UnitSetting>> ReadSystemdUnit(absl::string_view text);

// The values of `section`'s `key`, in order.
std::vector<std::string> UnitValues(const std::vector<UnitSetting>& unit, absl::string_view section,
                                    absl::string_view key);

// Splits an ExecStart= value into words as systemd.service(5) does: blanks
// separate words, double and single quotes group, C escapes (\n, \t, \\, \",
// \', \x20 ...) are decoded, "%%" is a '%'. Fails loudly on what this reader
// does not implement rather than guessing: the prefixes (@ - : + !) of the
// executable, specifiers (%t, %S ...), $VARIABLE substitution and ';'.
absl::StatusOr<std::vector<std::string>> SplitExecStart(absl::string_view value);

// A systemd time span (systemd.time(7)): "20s", "1min 30s", "1h2min",
// "500ms", a bare number of seconds, or "infinity".
absl::StatusOr<absl::Duration> ParseSystemdTimespan(absl::string_view text);

// One variable of an EnvironmentFile.
struct EnvAssignment {
  std::string name;
  std::string value;
  bool commented = false;  // written as "#NAME=value", an example of a default
  int line = 0;
};

// The assignments of an EnvironmentFile: "NAME=value" lines, and also
// "#NAME=value" lines (commented-out examples), reported with `commented`.
// Other comment lines ('#' or ';') are prose and skipped. A value in matching
// single or double quotes is unquoted. Fails, naming the line, on an
// uncommented line that is not a plain NAME=value (this reader knows no
// "export", no continuation lines) and on a variable assigned twice.
absl::StatusOr<std::vector<EnvAssignment>> ReadEnvironmentFile(absl::string_view text);

}  // namespace moq_stats::deploy::test

#endif  // MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_SYSTEMD_UNIT_READER_H_
