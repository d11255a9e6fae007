#include "client/cli/text_table.h"

#include <algorithm>
#include <utility>

#include "client/cli/terminal_text.h"

namespace moq_stats {
namespace cli {

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  // Cells carry relay-chosen text: nothing in them may reach the terminal
  // as a control.
  for (std::string& cell : cells) cell = TerminalSafe(cell);
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<size_t> widths;
  for (const Column& column : columns_) widths.push_back(column.header.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) text.append(2, ' ');
      const std::string& cell = cells[i];
      const size_t pad = widths[i] - cell.size();
      if (columns_[i].align == Align::kRight) text.append(pad, ' ');
      text.append(cell);
      if (columns_[i].align == Align::kLeft) text.append(pad, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out.append(text);
    out.push_back('\n');
  };
  std::vector<std::string> headers;
  for (const Column& column : columns_) headers.push_back(column.header);
  line(headers);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace cli
}  // namespace moq_stats
