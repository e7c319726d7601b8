#include "ballast/data/panel_builder.hpp"

#include <algorithm>
#include <iterator>

namespace ballast::data {

BarPanel BuildPanel(const std::vector<SymbolSeries>& tradable,
                    const std::vector<SymbolSeries>& extra, Timestamp from) {
  // Union of sorted date lists by repeated linear merges (far cheaper than sorting all bars when
  // hundreds of symbols share the same dates).
  std::vector<Timestamp> axis;
  std::vector<Timestamp> merged;
  for (const auto& s : tradable) {
    const auto begin = std::lower_bound(s.time.begin(), s.time.end(), from);
    merged.clear();
    merged.reserve(axis.size() + static_cast<std::size_t>(s.time.end() - begin));
    std::set_union(axis.begin(), axis.end(), begin, s.time.end(), std::back_inserter(merged));
    axis.swap(merged);
  }

  std::vector<std::string> names;
  for (const auto& s : tradable)
    names.push_back(s.symbol);
  for (const auto& s : extra)
    names.push_back(s.symbol);
  BarPanel panel(std::move(names));
  panel.Reserve(axis.size());
  for (Timestamp t : axis)
    panel.AppendRow(t);

  std::size_t col = 0;
  auto place = [&](const SymbolSeries& s) {
    // Merge-walk: both the series and the axis are sorted.
    std::size_t row = 0;
    for (std::size_t i = 0; i < s.Rows() && row < axis.size(); ++i) {
      while (row < axis.size() && axis[row] < s.time[i])
        ++row;
      if (row < axis.size() && axis[row] == s.time[i]) {
        // Columns that were not loaded stay NaN (volume 0).
        panel.SetBar(row, col, s.open.empty() ? kNaN : s.open[i], s.high.empty() ? kNaN : s.high[i],
                     s.low.empty() ? kNaN : s.low[i], s.close[i],
                     s.volume.empty() ? 0.0 : s.volume[i]);
      }
    }
    // Each action at the first row on or after its ex-date (one past the axis: dropped).
    for (const auto& a : s.actions) {
      const auto it = std::lower_bound(axis.begin(), axis.end(), DayToTimestamp(a.ex_date));
      if (it == axis.end()) continue;
      panel.AddAction({static_cast<std::size_t>(it - axis.begin()), col, a.kind, a.value});
    }
    ++col;
  };
  for (const auto& s : tradable)
    place(s);
  for (const auto& s : extra)
    place(s);
  return panel;
}

}  // namespace ballast::data
