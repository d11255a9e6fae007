#ifndef MOQ_STATS_CLIENT_CLI_TEXT_TABLE_H_
#define MOQ_STATS_CLIENT_CLI_TEXT_TABLE_H_

// A plain-text table for moq-stats' human output: columns padded to their
// widest cell, two spaces apart, numbers right-aligned.

#include <string>
#include <vector>

namespace moq_stats {
namespace cli {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // One row; missing cells are empty, extra cells are dropped. Each cell is
  // shown through TerminalSafe (control and bidi characters escaped).
  void AddRow(std::vector<std::string> cells);

  // The header line and every row, each ending in '\n', with no trailing
  // spaces.
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cli
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_CLI_TEXT_TABLE_H_
