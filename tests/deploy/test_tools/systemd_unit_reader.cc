#include "tests/deploy/test_tools/systemd_unit_reader.h"

#include <cstddef>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats::deploy::test {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsCommentLine(absl::string_view trimmed) {
  return !trimmed.empty() && (trimmed.front() == '#' || trimmed.front() == ';');
}

// A shell-style variable name.
bool IsVariableName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the escape at value[*i] == '\\' into *out; *i ends past it.
absl::Status DecodeEscape(absl::string_view value, size_t* i, std::string* out) {
  if (*i + 1 >= value.size()) return absl::InvalidArgumentError("ExecStart ends in a lone backslash");
  char e = value[*i + 1];
  *i += 2;
  switch (e) {
    case 'n':
      out->push_back('\n');
      return absl::OkStatus();
    case 't':
      out->push_back('\t');
      return absl::OkStatus();
    case 's':
      out->push_back(' ');
      return absl::OkStatus();
    case '\\':
      out->push_back('\\');
      return absl::OkStatus();
    case '"':
      out->push_back('"');
      return absl::OkStatus();
    case '\'':
      out->push_back('\'');
      return absl::OkStatus();
    case 'x': {
      int hi = *i < value.size() ? HexValue(value[*i]) : -1;
      int lo = *i + 1 < value.size() ? HexValue(value[*i + 1]) : -1;
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("ExecStart has a malformed \\x escape");
      out->push_back(static_cast<char>(hi * 16 + lo));
      *i += 2;
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("ExecStart has the escape \\", std::string(1, e), ", which this reader does not decode"));
  }
}

absl::Status Unsupported(absl::string_view what, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("ExecStart uses ", what, ", which this reader does not implement: ", value));
}

}  // namespace

absl::StatusOr<std::vector<UnitSetting>> ReadSystemdUnit(absl::string_view text) {
  std::vector<UnitSetting> out;
  std::string section;
  std::string pending;  // a continued setting, backslashes already replaced
  int pending_line = 0;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (IsCommentLine(line)) continue;
    if (pending.empty() && line.empty()) continue;
    if (pending.empty()) pending_line = number;
    bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.remove_suffix(1);
    if (!pending.empty()) pending.push_back(' ');
    pending.append(line.data(), line.size());
    if (continued) continue;

    absl::string_view logical = absl::StripAsciiWhitespace(pending);
    if (logical.front() == '[') {
      if (logical.back() != ']') {
        return absl::InvalidArgumentError(absl::StrCat("unit line ", pending_line, ": malformed section header"));
      }
      section = std::string(logical.substr(1, logical.size() - 2));
    } else {
      size_t eq = logical.find('=');
      if (eq == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("unit line ", pending_line, ": neither a section, a Key=value nor a comment"));
      }
      if (section.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("unit line ", pending_line, ": setting outside a section"));
      }
      UnitSetting setting;
      setting.section = section;
      setting.key = std::string(absl::StripAsciiWhitespace(logical.substr(0, eq)));
      setting.value = std::string(absl::StripAsciiWhitespace(logical.substr(eq + 1)));
      setting.line = pending_line;
      out.push_back(std::move(setting));
    }
    pending.clear();
  }
  if (!pending.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unit line ", pending_line, ": continued past the end of the file"));
  }
  return out;
}

std::vector<std::string> UnitValues(const std::vector<UnitSetting>& unit, absl::string_view section,
                                    absl::string_view key) {
  std::vector<std::string> out;
  for (const UnitSetting& s : unit) {
    if (s.section == section && s.key == key) out.push_back(s.value);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> SplitExecStart(absl::string_view value) {
  std::vector<std::string> words;
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < value.size() && IsBlank(value[i])) ++i;
  };
  // Handles what may appear in and out of quotes: escapes, '%', '$'.
  auto take = [&](std::string* word) -> absl::Status {
    char c = value[i];
    if (c == '\\') return DecodeEscape(value, &i, word);
    if (c == '%') {
      if (i + 1 < value.size() && value[i + 1] == '%') {
        word->push_back('%');
        i += 2;
        return absl::OkStatus();
      }
      return Unsupported("a specifier (%x)", value);
    }
    if (c == '$') return Unsupported("$VARIABLE substitution", value);
    word->push_back(c);
    ++i;
    return absl::OkStatus();
  };
  skip_blanks();
  while (i < value.size()) {
    std::string word;
    while (i < value.size() && !IsBlank(value[i])) {
      char c = value[i];
      if (c == '"' || c == '\'') {
        ++i;
        while (i < value.size() && value[i] != c) {
          if (absl::Status s = take(&word); !s.ok()) return s;
        }
        if (i >= value.size())
          return absl::InvalidArgumentError(absl::StrCat("ExecStart has an unclosed quote: ", value));
        ++i;
        continue;
      }
      if (absl::Status s = take(&word); !s.ok()) return s;
    }
    if (word == ";") return Unsupported("\";\" between commands", value);
    words.push_back(std::move(word));
    skip_blanks();
  }
  if (words.empty()) return absl::InvalidArgumentError("ExecStart is empty");
  const char first = words.front().front();
  if (first == '@' || first == '-' || first == ':' || first == '+' || first == '!') {
    return Unsupported("an executable prefix (@ - : + !)", value);
  }
  return words;
}

absl::StatusOr<absl::Duration> ParseSystemdTimespan(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t == "infinity") return absl::InfiniteDuration();
  struct Unit {
    const char* name;
    absl::Duration length;
  };
  static const Unit kUnits[] = {
      {"us", absl::Microseconds(1)},   {"usec", absl::Microseconds(1)}, {"ms", absl::Milliseconds(1)},
      {"msec", absl::Milliseconds(1)}, {"s", absl::Seconds(1)},         {"sec", absl::Seconds(1)},
      {"second", absl::Seconds(1)},    {"seconds", absl::Seconds(1)},   {"m", absl::Minutes(1)},
      {"min", absl::Minutes(1)},       {"minute", absl::Minutes(1)},    {"minutes", absl::Minutes(1)},
      {"h", absl::Hours(1)},           {"hr", absl::Hours(1)},          {"hour", absl::Hours(1)},
      {"hours", absl::Hours(1)},       {"d", absl::Hours(24)},          {"day", absl::Hours(24)},
      {"days", absl::Hours(24)},
  };
  auto error = [&text] { return absl::InvalidArgumentError(absl::StrCat("not a systemd time span: \"", text, "\"")); };
  if (t.empty()) return error();
  absl::Duration total;
  size_t i = 0;
  while (i < t.size()) {
    size_t start = i;
    while (i < t.size() && (absl::ascii_isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
    double number = 0;
    if (i == start || !absl::SimpleAtod(t.substr(start, i - start), &number)) return error();
    while (i < t.size() && IsBlank(t[i])) ++i;
    size_t unit_start = i;
    while (i < t.size() && absl::ascii_isalpha(static_cast<unsigned char>(t[i]))) ++i;
    absl::string_view unit = t.substr(unit_start, i - unit_start);
    absl::Duration length = absl::Seconds(1);  // a bare number is seconds
    if (!unit.empty()) {
      bool known = false;
      for (const Unit& u : kUnits) {
        if (unit == u.name) {
          length = u.length;
          known = true;
        }
      }
      if (!known) return error();
    }
    total += number * length;
    while (i < t.size() && IsBlank(t[i])) ++i;
  }
  return total;
}

absl::StatusOr<std::vector<EnvAssignment>> ReadEnvironmentFile(absl::string_view text) {
  std::vector<EnvAssignment> out;
  std::set<std::string> names;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty()) continue;
    bool commented = IsCommentLine(line);
    absl::string_view body = commented ? absl::StripLeadingAsciiWhitespace(line.substr(1)) : line;
    size_t eq = body.find('=');
    bool assignment = eq != absl::string_view::npos && IsVariableName(body.substr(0, eq));
    if (!assignment) {
      if (commented) continue;  // prose
      return absl::InvalidArgumentError(
          absl::StrCat("environment file line ", number, ": not a NAME=value assignment: ", line));
    }
    EnvAssignment a;
    a.name = std::string(body.substr(0, eq));
    absl::string_view value = body.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    a.value = std::string(value);
    a.commented = commented;
    a.line = number;
    if (!names.insert(a.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment file line ", number, ": ", a.name, " is assigned twice"));
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace moq_stats::deploy::test
