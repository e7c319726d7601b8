#pragma once
/// Aligns loaded series on one time axis. The axis is the union of the dates of the `tradable`
/// series (the portfolio's symbols); `extra` series (a benchmark) are placed on that axis and
/// contribute no dates of their own.

#include <vector>

#include "ballast/data/series.hpp"
#include "ballast/engine/bar_panel.hpp"

namespace ballast::data {

/// Columns: tradable series in order, then extra series in order. Rows: the union of tradable
/// dates at or after `from`. Each series' corporate actions go to the first row on or after
/// their ex-date (convert a series with ToBasis first to choose which it keeps).
[[nodiscard]] BarPanel BuildPanel(const std::vector<SymbolSeries>& tradable,
                                  const std::vector<SymbolSeries>& extra, Timestamp from);

}  // namespace ballast::data
