#include "ballast/data/price_basis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ballast/engine/error.hpp"

namespace ballast::data {
namespace {

// Row of the first bar on or after `day`; Rows() when none is.
std::size_t RowOf(const SymbolSeries& s, Days day) {
  return static_cast<std::size_t>(
      std::lower_bound(s.time.begin(), s.time.end(), DayToTimestamp(day)) - s.time.begin());
}

void Scale(SymbolSeries& s, std::size_t row, double k) {
  s.close[row] *= k;
  for (auto* col : {&s.open, &s.high, &s.low}) {
    if (!col->empty()) (*col)[row] *= k;
  }
}

}  // namespace

void ToBasis(SymbolSeries& s, PriceBasis basis) {
  if (s.actions.empty()) return;
  const std::size_t n = s.Rows();
  // Per row: the split ratio and the dividend of that bar.
  std::vector<double> split(n, 1.0), dividend(n, 0.0);
  for (const auto& a : s.actions) {
    const std::size_t r = RowOf(s, a.ex_date);
    if (r >= n) continue;
    if (a.kind == ActionKind::kSplit) {
      split[r] *= a.value;
    } else {
      dividend[r] += a.value;
    }
  }
  if (s.price_adjustment == "split_adjusted") {
    // Yahoo's Close and Dividends are split-adjusted: back to the prices as traded first.
    std::vector<double> after_row(n, 1.0);
    double after = 1.0;
    for (std::size_t r = n; r-- > 0;) {
      after_row[r] = after;
      if (after != 1.0) Scale(s, r, after);
      if (!s.volume.empty()) s.volume[r] /= after;
      dividend[r] *= after;
      after *= split[r];
    }
    for (auto& a : s.actions) {
      const std::size_t r = RowOf(s, a.ex_date);
      if (a.kind == ActionKind::kDividend && r < n) a.value *= after_row[r];
    }
    s.price_adjustment = "raw";
  }
  if (basis == PriceBasis::kRaw) return;
  if (basis == PriceBasis::kSplitAdjusted) {
    // The product of the splits after each bar, from the last bar back.
    std::vector<CorporateAction> kept;
    double after = 1.0;
    for (std::size_t r = n; r-- > 0;) {
      if (after != 1.0) Scale(s, r, 1.0 / after);
      if (!s.volume.empty()) s.volume[r] *= after;
      if (dividend[r] > 0.0)
        kept.push_back({TimestampToDay(s.time[r]), ActionKind::kDividend, dividend[r] / after});
      after *= split[r];
    }
    std::reverse(kept.begin(), kept.end());
    s.actions = std::move(kept);
    s.price_adjustment = "split_adjusted";
    return;
  }
  // Total return: from the last close back, each bar's return s (P + D) / P_prev.
  std::vector<double> raw = s.close;
  double level = raw.empty() ? 0.0 : raw.back();
  for (std::size_t r = n; r-- > 0;) {
    const double k = level / raw[r];
    if (k != 1.0) Scale(s, r, k);
    if (r > 0) level /= split[r] * (raw[r] + dividend[r]) / raw[r - 1];
  }
  s.actions.clear();
  s.price_adjustment = "adjusted";
}

void DeclareBasis(std::vector<SymbolSeries>& series, const std::vector<std::string>& declarations) {
  auto fail = [](const std::string& d, const std::string& why) {
    throw Error(ErrorKind::kUsage, fmt::format("--basis {}: {}", d, why));
  };
  std::string all;
  std::map<std::string, std::string, std::less<>> by_symbol;
  for (const auto& d : declarations) {
    const auto eq = d.find('=');
    const std::string basis = eq == std::string::npos ? d : d.substr(eq + 1);
    if (basis != "raw" && basis != "split_adjusted" && basis != "adjusted") {
      fail(d, fmt::format("'{}' is not a price basis: expected raw, split_adjusted or adjusted "
                          "(as BASIS or SYMBOL=BASIS)",
                          basis));
    }
    if (eq == std::string::npos) {
      if (!all.empty() && all != basis) fail(d, fmt::format("the default is already {}", all));
      all = basis;
      continue;
    }
    const std::string symbol = d.substr(0, eq);
    const auto it = std::find_if(series.begin(), series.end(),
                                 [&](const SymbolSeries& s) { return s.symbol == symbol; });
    if (it == series.end()) fail(d, fmt::format("'{}' is not in this import", symbol));
    if (!by_symbol.emplace(symbol, basis).second)
      fail(d, fmt::format("{} is declared twice", symbol));
    // Adjusted prices cannot be declared anything else; a Close's raw or split-adjusted label is
    // an inference (Yahoo's Close is split-adjusted) that a declaration may correct.
    if (it->price_adjustment == "adjusted" && basis != "adjusted") {
      fail(d, fmt::format("{}'s prices were adjusted (its file's Adj Close column, or "
                          "--assume-adjusted); --price raw keeps its Close",
                          symbol));
    }
  }
  for (auto& s : series) {
    if (const auto it = by_symbol.find(s.symbol); it != by_symbol.end()) {
      s.price_adjustment = it->second;
    } else if (s.price_adjustment == "unknown" && !all.empty()) {
      s.price_adjustment = all;
    }
  }
}

}  // namespace ballast::data
