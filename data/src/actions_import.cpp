// Corporate actions from a CSV of their own (`symbol,date,type,value`), merged into the series
// an import read.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "ballast/data/csv_import.hpp"
#include "csv_text.hpp"

namespace ballast::data {

using namespace detail;  // NOLINT: the CSV text helpers

void AddAction(SymbolSeries& series, const CorporateAction& action, const std::string& file,
               std::size_t line) {
  if (!std::isfinite(action.value) || !(action.value > 0.0)) {
    DataError(file, line,
              fmt::format("{} {} value {} is not a positive finite number", series.symbol,
                          ToString(action.kind), action.value));
  }
  if (action.kind == ActionKind::kSplit && action.value == 1.0) {
    DataError(file, line,
              fmt::format("{} split of 1 on {} changes nothing (expected new shares per old "
                          "share, 2 for a 2:1 split)",
                          series.symbol, FormatDate(action.ex_date)));
  }
  const auto it = std::lower_bound(series.actions.begin(), series.actions.end(), action);
  if (it != series.actions.end() && it->ex_date == action.ex_date && it->kind == action.kind) {
    DataError(file, line,
              fmt::format("a second {} for {} on {}", ToString(action.kind), series.symbol,
                          FormatDate(action.ex_date)));
  }
  series.actions.insert(it, action);
}

void MergeActionsCsv(const std::string& path, std::string_view text,
                     std::vector<SymbolSeries>& series) {
  std::map<std::string, SymbolSeries*, std::less<>> by_symbol;
  for (auto& s : series)
    by_symbol[s.symbol] = &s;
  std::vector<std::string_view> fields;
  std::size_t pos = 0, line_no = 0;
  int col_symbol = -1, col_date = -1, col_type = -1, col_value = -1;
  std::size_t width = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const auto end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (Trim(line).empty()) continue;
    if (width == 0 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF)
      line.remove_prefix(3);  // BOM
    Split(line, fields);
    if (width == 0) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string h = Lower(fields[i]);
        const int idx = static_cast<int>(i);
        if (h == "symbol" || h == "ticker" || h == "name") col_symbol = idx;
        if (h == "date" || h == "ex_date" || h == "ex-date") col_date = idx;
        if (h == "type" || h == "action") col_type = idx;
        if (h == "value" || h == "ratio" || h == "amount") col_value = idx;
      }
      if (col_symbol < 0 || col_date < 0 || col_type < 0 || col_value < 0) {
        DataError(path, line_no,
                  fmt::format("expected the header symbol,date,type,value (found '{}')", line));
      }
      width = fields.size();
      continue;
    }
    if (fields.size() != width) {
      DataError(path, line_no,
                fmt::format("expected {} fields like the header, found {}", width, fields.size()));
    }
    const std::string_view symbol = fields[static_cast<std::size_t>(col_symbol)];
    const auto target = by_symbol.find(symbol);
    if (target == by_symbol.end()) {
      DataError(path, line_no,
                fmt::format("symbol '{}' has no prices in this import (actions belong to a "
                            "symbol whose bars are imported with them)",
                            symbol));
    }
    const std::string_view date_text = fields[static_cast<std::size_t>(col_date)];
    const auto day = ParseBarDate(date_text);
    if (!day) {
      DataError(path, line_no, fmt::format("date '{}' is not a date YYYY-MM-DD", date_text));
    }
    const std::string type = Lower(fields[static_cast<std::size_t>(col_type)]);
    if (type != "split" && type != "dividend") {
      DataError(path, line_no,
                fmt::format("type '{}' is not split or dividend",
                            fields[static_cast<std::size_t>(col_type)]));
    }
    double value = 0.0;
    if (ParseNumber(fields[static_cast<std::size_t>(col_value)], value) != NumState::kOk) {
      DataError(path, line_no,
                fmt::format("value '{}' is not a number (a split's new shares per old share, "
                            "or a dividend's cash per share)",
                            fields[static_cast<std::size_t>(col_value)]));
    }
    AddAction(*target->second,
              {*day, type == "split" ? ActionKind::kSplit : ActionKind::kDividend, value}, path,
              line_no);
  }
  if (width == 0) DataError(path, 0, "empty file (expected the header symbol,date,type,value)");
}

void MergeActionsFile(const std::string& path, std::vector<SymbolSeries>& series) {
  MergeActionsCsv(path, ReadMaybeGzip(path), series);
}

}  // namespace ballast::data
