#ifndef MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_YAML_SUBSET_READER_H_
#define MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_YAML_SUBSET_READER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moq_stats::deploy::test {

// A node of a YAML document. Scalars stay text: "2", "true" and "2" quoted
// read the same, which is all a Kubernetes manifest check needs.
struct YamlNode {
  enum class Kind { kNull, kScalar, kMap, kSeq };

  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<std::pair<std::string, YamlNode>> map;  // in file order
  std::vector<YamlNode> seq;
  int line = 0;  // 1-based line it starts on

  // The value of `key` in a map; nullptr when this is no map or lacks it.
  const YamlNode* Get(absl::string_view key) const;
  // Follows a dot-separated path of map keys ("spec.template.spec");
  // nullptr when a step is missing.
  const YamlNode* At(absl::string_view dotted_path) const;
  bool IsScalar() const { return kind == Kind::kScalar; }
};

// Reads the block-style YAML a Kubernetes manifest is written in: documents
// separated by "---", nested maps and sequences by indentation (including
// "- key: value" items and sequences indented level with their key),
// plain, single- and double-quoted one-line scalars, "{}" and "[]", and
// comments. Anything else fails loudly, naming the line, rather than being
// misread: flow collections with content, block scalars (| >), anchors and
// aliases, tags, multi-line plain scalars, tabs in indentation, duplicate
// keys.
absl::StatusOr<std::vector<YamlNode>> ReadYamlSubset(absl::string_view text);

}  // namespace moq_stats::deploy::test

#endif  // MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_YAML_SUBSET_READER_H_
