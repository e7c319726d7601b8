#include "ballast/data/panel_builder.hpp"

#include <algorithm>

namespace ballast::data {

BarPanel BuildPanel(const std::vector<SymbolSeries>& tradable, const std::vector<SymbolSeries>& extra,
                    Timestamp from) {
  std::vector<Timestamp> axis;
  for (const auto& s : tradable) {
    for (Timestamp t : s.time) {
      if (t >= from) axis.push_back(t);
    }
  }
  std::sort(axis.begin(), axis.end());
  axis.erase(std::unique(axis.begin(), axis.end()), axis.end());

  std::vector<std::string> names;
  for (const auto& s : tradable) names.push_back(s.symbol);
  for (const auto& s : extra) names.push_back(s.symbol);
  BarPanel panel(std::move(names));
  panel.Reserve(axis.size());
  for (Timestamp t : axis) panel.AppendRow(t);

  std::size_t col = 0;
  auto place = [&](const SymbolSeries& s) {
    // Merge-walk: both the series and the axis are sorted.
    std::size_t row = 0;
    for (std::size_t i = 0; i < s.Rows() && row < axis.size(); ++i) {
      while (row < axis.size() && axis[row] < s.time[i]) ++row;
      if (row < axis.size() && axis[row] == s.time[i]) {
        panel.SetBar(row, col, s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]);
      }
    }
    ++col;
  };
  for (const auto& s : tradable) place(s);
  for (const auto& s : extra) place(s);
  return panel;
}

}  // namespace ballast::data
