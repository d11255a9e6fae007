#include "tests/deploy/test_tools/yaml_subset_reader.h"

#include <cstddef>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moq_stats::deploy::test {
namespace {

struct Line {
  int indent = 0;
  std::string text;  // without indentation, comment and trailing blanks
  int number = 0;
};

absl::Status ErrorAt(int line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("YAML line ", line, ": ", why));
}

// Where a quoted scalar may open: at the start, or after a blank.
bool MayOpenQuote(absl::string_view text, size_t i) { return i == 0 || text[i - 1] == ' '; }

// Calls visit(i) for each character outside quoted scalars, until it returns
// true; returns that index, or npos. Quotes open only where a scalar may
// start, so the apostrophe of "don't" is a plain character.
template <typename Visit>
size_t ScanOutsideQuotes(absl::string_view text, Visit visit) {
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == '"') {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quote = 0;
      }
      continue;
    }
    if (quote == '\'') {
      if (c == '\'') quote = 0;  // '' reopens at once: an escaped quote
      continue;
    }
    if ((c == '"' || c == '\'') && MayOpenQuote(text, i)) {
      quote = c;
      continue;
    }
    if (visit(i)) return i;
  }
  return absl::string_view::npos;
}

std::string StripComment(absl::string_view text) {
  size_t hash = ScanOutsideQuotes(text, [&](size_t i) { return text[i] == '#' && (i == 0 || text[i - 1] == ' '); });
  absl::string_view kept = hash == absl::string_view::npos ? text : text.substr(0, hash);
  return std::string(absl::StripTrailingAsciiWhitespace(kept));
}

// The ':' ending a mapping key: outside quotes and followed by a blank or the
// end of the line. npos when the line is no "key: ..." line.
size_t FindKeyColon(absl::string_view text) {
  return ScanOutsideQuotes(text,
                           [&](size_t i) { return text[i] == ':' && (i + 1 == text.size() || text[i + 1] == ' '); });
}

bool IsSeqItem(absl::string_view text) { return text == "-" || absl::StartsWith(text, "- "); }

absl::StatusOr<std::string> ParseDoubleQuoted(absl::string_view text, int line) {
  std::string out;
  size_t i = 1;
  for (; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (++i >= text.size()) break;
    switch (text[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        return ErrorAt(line, absl::StrCat("unsupported escape \\", std::string(1, text[i])));
    }
  }
  if (i >= text.size()) return ErrorAt(line, "unclosed double quote (multi-line scalars are not supported)");
  if (!absl::StripAsciiWhitespace(text.substr(i + 1)).empty()) return ErrorAt(line, "text after a quoted scalar");
  return out;
}

absl::StatusOr<std::string> ParseSingleQuoted(absl::string_view text, int line) {
  std::string out;
  size_t i = 1;
  for (; i < text.size(); ++i) {
    if (text[i] != '\'') {
      out.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == '\'') {
      out.push_back('\'');
      ++i;
    } else {
      break;
    }
  }
  if (i >= text.size()) return ErrorAt(line, "unclosed single quote (multi-line scalars are not supported)");
  if (!absl::StripAsciiWhitespace(text.substr(i + 1)).empty()) return ErrorAt(line, "text after a quoted scalar");
  return out;
}

absl::StatusOr<YamlNode> ParseScalar(absl::string_view text, int line) {
  YamlNode node;
  node.line = line;
  if (text == "{}") {
    node.kind = YamlNode::Kind::kMap;
    return node;
  }
  if (text == "[]") {
    node.kind = YamlNode::Kind::kSeq;
    return node;
  }
  node.kind = YamlNode::Kind::kScalar;
  if (text.front() == '"') {
    absl::StatusOr<std::string> s = ParseDoubleQuoted(text, line);
    if (!s.ok()) return s.status();
    node.scalar = *std::move(s);
    return node;
  }
  if (text.front() == '\'') {
    absl::StatusOr<std::string> s = ParseSingleQuoted(text, line);
    if (!s.ok()) return s.status();
    node.scalar = *std::move(s);
    return node;
  }
  if (absl::string_view("[{|>&*!%@`").find(text.front()) != absl::string_view::npos) {
    return ErrorAt(line, absl::StrCat("unsupported YAML (flow collection, block scalar, anchor, alias, tag or "
                                      "reserved character): ",
                                      text));
  }
  node.scalar = std::string(text);
  return node;
}

class Parser {
 public:
  explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

  absl::StatusOr<YamlNode> Document() {
    if (lines_.empty()) return YamlNode();
    absl::StatusOr<YamlNode> node = Node(lines_[0].indent);
    if (!node.ok()) return node;
    if (pos_ < lines_.size()) return ErrorAt(lines_[pos_].number, "unexpected indentation");
    return node;
  }

 private:
  // The node whose first line is lines_[pos_], indented by `indent`.
  absl::StatusOr<YamlNode> Node(int indent) {
    const Line& line = lines_[pos_];
    if (IsSeqItem(line.text)) return Seq(indent);
    if (FindKeyColon(line.text) != absl::string_view::npos) return Map(indent);
    ++pos_;
    if (absl::Status s = NoDeeperLine(indent, line.number); !s.ok()) return s;
    return ParseScalar(line.text, line.number);
  }

  // Fails when the next line is indented deeper than `indent`: what would
  // have to continue a scalar ended on line `number`.
  absl::Status NoDeeperLine(int indent, int number) {
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
      return ErrorAt(lines_[pos_].number, absl::StrCat("deeper than the scalar on line ", number,
                                                       " (multi-line scalars are not supported)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<YamlNode> Seq(int indent) {
    YamlNode node;
    node.kind = YamlNode::Kind::kSeq;
    node.line = lines_[pos_].number;
    while (pos_ < lines_.size() && lines_[pos_].indent == indent && IsSeqItem(lines_[pos_].text)) {
      Line& line = lines_[pos_];
      if (line.text == "-") {
        ++pos_;
        if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
          absl::StatusOr<YamlNode> item = Node(lines_[pos_].indent);
          if (!item.ok()) return item;
          node.seq.push_back(*std::move(item));
        } else {
          node.seq.emplace_back();
        }
        continue;
      }
      // "- rest": read rest as if it were a line of its own, indented to
      // where it starts, so "- name: x" followed by "  value: y" is one map.
      absl::string_view rest = absl::string_view(line.text).substr(2);
      size_t extra = rest.find_first_not_of(' ');
      line.indent = indent + 2 + static_cast<int>(extra);
      line.text = std::string(rest.substr(extra));
      absl::StatusOr<YamlNode> item = Node(line.indent);
      if (!item.ok()) return item;
      node.seq.push_back(*std::move(item));
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
      return ErrorAt(lines_[pos_].number, "unexpected indentation in a sequence");
    }
    return node;
  }

  absl::StatusOr<YamlNode> Map(int indent) {
    YamlNode node;
    node.kind = YamlNode::Kind::kMap;
    node.line = lines_[pos_].number;
    std::set<std::string> keys;
    while (pos_ < lines_.size() && lines_[pos_].indent == indent && !IsSeqItem(lines_[pos_].text)) {
      const Line& line = lines_[pos_];
      size_t colon = FindKeyColon(line.text);
      if (colon == absl::string_view::npos) return ErrorAt(line.number, "expected \"key: value\"");
      absl::string_view raw_key = absl::StripAsciiWhitespace(absl::string_view(line.text).substr(0, colon));
      if (raw_key.empty()) return ErrorAt(line.number, "empty key");
      std::string key;
      if (raw_key.front() == '"' || raw_key.front() == '\'') {
        absl::StatusOr<YamlNode> k = ParseScalar(raw_key, line.number);
        if (!k.ok()) return k.status();
        key = k->scalar;
      } else {
        absl::StatusOr<YamlNode> k = ParseScalar(raw_key, line.number);  // refuses "? ", "&a" and the like
        if (!k.ok()) return k.status();
        key = std::string(raw_key);
      }
      if (!keys.insert(key).second) return ErrorAt(line.number, absl::StrCat("duplicate key \"", key, "\""));
      absl::string_view rest = absl::StripAsciiWhitespace(absl::string_view(line.text).substr(colon + 1));
      const int number = line.number;
      ++pos_;
      YamlNode value;
      value.line = number;
      if (!rest.empty()) {
        if (FindKeyColon(rest) != absl::string_view::npos && rest.front() != '"' && rest.front() != '\'') {
          return ErrorAt(number, "a plain value with \": \" in it is ambiguous; quote it");
        }
        if (absl::Status s = NoDeeperLine(indent, number); !s.ok()) return s;
        absl::StatusOr<YamlNode> scalar = ParseScalar(rest, number);
        if (!scalar.ok()) return scalar;
        value = *std::move(scalar);
      } else if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
        absl::StatusOr<YamlNode> child = Node(lines_[pos_].indent);
        if (!child.ok()) return child;
        value = *std::move(child);
      } else if (pos_ < lines_.size() && lines_[pos_].indent == indent && IsSeqItem(lines_[pos_].text)) {
        // A sequence may sit level with its key.
        absl::StatusOr<YamlNode> child = Seq(indent);
        if (!child.ok()) return child;
        value = *std::move(child);
      }
      node.map.emplace_back(std::move(key), std::move(value));
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
      return ErrorAt(lines_[pos_].number, "unexpected indentation in a map");
    }
    return node;
  }

  std::vector<Line> lines_;
  size_t pos_ = 0;
};

}  // namespace

const YamlNode* YamlNode::Get(absl::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : map) {
    if (k == key) return &v;
  }
  return nullptr;
}

const YamlNode* YamlNode::At(absl::string_view dotted_path) const {
  const YamlNode* node = this;
  for (absl::string_view step : absl::StrSplit(dotted_path, '.')) {
    node = node->Get(step);
    if (node == nullptr) return nullptr;
  }
  return node;
}

absl::StatusOr<std::vector<YamlNode>> ReadYamlSubset(absl::string_view text) {
  std::vector<std::vector<Line>> documents(1);
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view stripped_right = absl::StripTrailingAsciiWhitespace(raw);
    size_t indent = stripped_right.find_first_not_of(' ');
    if (indent == absl::string_view::npos) continue;  // blank
    if (stripped_right[indent] == '\t') return ErrorAt(number, "tab in indentation");
    std::string text_part = StripComment(stripped_right.substr(indent));
    if (text_part.empty()) continue;  // comment only
    if (indent == 0 && (text_part == "---" || absl::StartsWith(text_part, "--- "))) {
      if (text_part != "---") return ErrorAt(number, "content after \"---\" is not supported");
      documents.emplace_back();
      continue;
    }
    if (indent == 0 && text_part == "...") continue;
    if (indent == 0 && text_part.front() == '%') return ErrorAt(number, "YAML directives are not supported");
    documents.back().push_back(Line{static_cast<int>(indent), std::move(text_part), number});
  }
  std::vector<YamlNode> out;
  for (std::vector<Line>& lines : documents) {
    if (lines.empty()) continue;
    absl::StatusOr<YamlNode> doc = Parser(std::move(lines)).Document();
    if (!doc.ok()) return doc.status();
    out.push_back(*std::move(doc));
  }
  return out;
}

}  // namespace moq_stats::deploy::test
