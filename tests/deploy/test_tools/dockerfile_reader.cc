#include "tests/deploy/test_tools/dockerfile_reader.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace moq_stats::deploy::test {
namespace {

void SkipSpace(absl::string_view text, size_t* i) {
  while (*i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[*i]))) ++*i;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One JSON string starting at text[*i] == '"'; *i ends past its closing quote.
absl::StatusOr<std::string> ParseJsonString(absl::string_view text, size_t* i) {
  std::string out;
  ++*i;
  while (*i < text.size()) {
    char c = text[(*i)++];
    if (c == '"') return out;
    if (static_cast<unsigned char>(c) < 0x20) return absl::InvalidArgumentError("control character in a JSON string");
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (*i >= text.size()) break;
    char e = text[(*i)++];
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (*i + 4 > text.size()) return absl::InvalidArgumentError("truncated \\u escape");
        uint32_t code = 0;
        for (int k = 0; k < 4; ++k) {
          int v = HexValue(text[*i + k]);
          if (v < 0) return absl::InvalidArgumentError("malformed \\u escape");
          code = code * 16 + static_cast<uint32_t>(v);
        }
        *i += 4;
        // Enough for what a command line holds; surrogate pairs are refused.
        if (code >= 0xd800 && code <= 0xdfff) return absl::InvalidArgumentError("\\u surrogate escapes unsupported");
        if (code < 0x80) {
          out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out.push_back(static_cast<char>(0xc0 | (code >> 6)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        } else {
          out.push_back(static_cast<char>(0xe0 | (code >> 12)));
          out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        }
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown JSON escape \\", std::string(1, e)));
    }
  }
  return absl::InvalidArgumentError("unterminated JSON string");
}

// Instruction text with its keyword, from a logical (joined) line.
struct Instruction {
  std::string keyword;  // upper case
  std::string args;
  int line = 0;  // first physical line, 1-based
};

std::vector<Instruction> Instructions(absl::string_view text) {
  std::vector<Instruction> out;
  std::string pending;
  int pending_line = 0;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripTrailingAsciiWhitespace(raw);
    absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(line);
    // Comments (and parser directives, which look like comments) are dropped
    // even inside a continued instruction, as Docker does.
    if (!trimmed.empty() && trimmed.front() == '#') continue;
    if (pending.empty() && trimmed.empty()) continue;
    if (pending.empty()) pending_line = number;
    bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.remove_suffix(1);
    if (!pending.empty()) pending.push_back(' ');
    pending.append(line.data(), line.size());
    if (continued) continue;
    absl::string_view logical = absl::StripAsciiWhitespace(pending);
    size_t space = logical.find_first_of(" \t");
    Instruction ins;
    ins.keyword = absl::AsciiStrToUpper(logical.substr(0, space));
    ins.args = space == absl::string_view::npos ? "" : std::string(absl::StripAsciiWhitespace(logical.substr(space)));
    ins.line = pending_line;
    out.push_back(std::move(ins));
    pending.clear();
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseJsonStringArray(absl::string_view text) {
  size_t i = 0;
  SkipSpace(text, &i);
  if (i >= text.size() || text[i] != '[') return absl::InvalidArgumentError("not a JSON array (no \"[\")");
  ++i;
  std::vector<std::string> out;
  SkipSpace(text, &i);
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      SkipSpace(text, &i);
      if (i >= text.size() || text[i] != '"') return absl::InvalidArgumentError("JSON array element is not a string");
      absl::StatusOr<std::string> s = ParseJsonString(text, &i);
      if (!s.ok()) return s.status();
      out.push_back(*std::move(s));
      SkipSpace(text, &i);
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      return absl::InvalidArgumentError("expected \",\" or \"]\" in a JSON array");
    }
  }
  SkipSpace(text, &i);
  if (i != text.size()) return absl::InvalidArgumentError("text after the JSON array");
  return out;
}

absl::StatusOr<DockerfileFinalStage> ReadDockerfile(absl::string_view text) {
  DockerfileFinalStage stage;
  bool seen_from = false;
  bool has_entrypoint = false;
  std::vector<std::pair<std::string, std::string>> global_args;  // ARG NAME=default before the first FROM
  for (const Instruction& ins : Instructions(text)) {
    auto error = [&ins](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("Dockerfile line ", ins.line, ": ", ins.keyword, " ", why));
    };
    if (ins.keyword == "FROM") {
      stage = DockerfileFinalStage();
      has_entrypoint = false;
      seen_from = true;
      std::vector<std::string> words = absl::StrSplit(ins.args, ' ', absl::SkipWhitespace());
      if (words.empty()) return error("names no image");
      // ${NAME} and $NAME stand for the default of an ARG before the first FROM.
      stage.from = words[0];
      for (const auto& [name, value] : global_args) {
        absl::StrReplaceAll({{absl::StrCat("${", name, "}"), value}}, &stage.from);
        if (stage.from == absl::StrCat("$", name)) stage.from = value;
      }
      if (absl::StrContains(stage.from, "$")) return error("names an image through an ARG with no default");
      continue;
    }
    if (!seen_from) {
      if (ins.keyword != "ARG") return error("comes before the first FROM");
      std::vector<std::string> name_value = absl::StrSplit(ins.args, absl::MaxSplits('=', 1));
      if (name_value.size() == 2) global_args.emplace_back(name_value[0], name_value[1]);
      continue;
    }
    if (ins.keyword == "ENTRYPOINT" || ins.keyword == "CMD") {
      if (ins.args.empty() || ins.args.front() != '[') {
        return error("is in shell form; the exec form (a JSON array) keeps the daemon PID 1 so it gets SIGTERM");
      }
      absl::StatusOr<std::vector<std::string>> argv = ParseJsonStringArray(ins.args);
      if (!argv.ok()) return error(argv.status().message());
      if (ins.keyword == "ENTRYPOINT") {
        if (argv->empty()) return error("is an empty array");
        stage.entrypoint = *std::move(argv);
        has_entrypoint = true;
      } else {
        stage.cmd = *std::move(argv);
        stage.has_cmd = true;
      }
    } else if (ins.keyword == "EXPOSE") {
      for (absl::string_view port : absl::StrSplit(ins.args, ' ', absl::SkipWhitespace())) {
        stage.expose.emplace_back(port);
      }
    } else if (ins.keyword == "STOPSIGNAL") {
      stage.stop_signal = ins.args;
    } else if (ins.keyword == "USER") {
      stage.user = ins.args;
    } else if (ins.keyword == "RUN") {
      stage.run.push_back(ins.args);
    }
  }
  if (!seen_from) return absl::InvalidArgumentError("Dockerfile has no FROM");
  if (!has_entrypoint) return absl::InvalidArgumentError("the final stage of the Dockerfile has no ENTRYPOINT");
  return stage;
}

}  // namespace moq_stats::deploy::test
