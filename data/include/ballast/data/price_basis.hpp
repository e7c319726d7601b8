#pragma once
/// Which prices a run trades on, made from a raw series and its corporate actions.

#include <string>
#include <vector>

#include "ballast/data/series.hpp"

namespace ballast::data {

enum class PriceBasis : unsigned char {
  kAdjusted,       ///< total return: splits and dividends in the prices, no actions left
  kRaw,            ///< as traded: the kernel applies the splits and pays the dividends
  kSplitAdjusted,  ///< splits in the prices; the kernel pays the dividends (per adjusted share)
};

/// Converts `series` (raw prices with their actions, or split-adjusted ones as Yahoo gives them:
/// `price_adjustment` "split_adjusted", dividends per adjusted share) to `basis`, keeping only
/// the actions the kernel must still apply. Each action belongs to the first bar on or after its
/// ex-date. Split-adjusted prices divide by the product of the splits after each bar. The
/// total-return series follows the CRSP convention: its return on a bar is s (P + D) / P_prev for a
/// split s and dividend D of that bar, anchored so its last close is the raw last close. Open, high
/// and low scale with the close.
void ToBasis(SymbolSeries& series, PriceBasis basis);

/// Declares the price basis of imported series (`data import --basis`). Each declaration is
/// "BASIS" (every series whose file does not say: label "unknown") or "SYMBOL=BASIS" (that
/// symbol; wins over the first form), BASIS one of raw, split_adjusted, adjusted. Error(kUsage)
/// naming the declaration for another BASIS, a symbol not in `series`, a second declaration of
/// one symbol or of the default, and a SYMBOL=BASIS other than adjusted for adjusted prices.
void DeclareBasis(std::vector<SymbolSeries>& series, const std::vector<std::string>& declarations);

}  // namespace ballast::data
