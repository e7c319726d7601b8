#pragma once
/// One symbol's daily bars as columns, as imported from CSV or loaded from the store.

#include <cstddef>
#include <string>
#include <vector>

#include "ballast/engine/corporate_action.hpp"
#include "ballast/engine/time.hpp"

namespace ballast::data {

struct SymbolSeries {
  std::string symbol;
  std::vector<Timestamp> time;  ///< 00:00 UTC of each session date, strictly increasing
  std::vector<double> open, high, low, close, volume;
  /// The price basis: "adjusted" (total return: Adj Close applied, or declared), "raw" (as
  /// traded: Adj Close present and ignored by --price raw, or declared), "split_adjusted" (splits
  /// in the prices, dividends not: a Yahoo file with a Stock Splits column, or declared) or
  /// "unknown" (the file does not say and the import was not told).
  std::string price_adjustment = "unknown";
  std::string source;             ///< file it came from (base name)
  std::size_t repaired_rows = 0;  ///< rows with missing open/high/low/volume filled from close
  std::size_t ohlc_warnings = 0;  ///< rows whose high/low do not bracket open/close
  /// Splits and cash dividends, sorted (ex-date, split before dividend), at most one of each
  /// kind per date.
  std::vector<CorporateAction> actions;
  [[nodiscard]] std::size_t Rows() const noexcept { return time.size(); }
};

}  // namespace ballast::data
