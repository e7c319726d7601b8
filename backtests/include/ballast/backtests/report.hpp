#pragma once
/// report.html: one self-contained page (inline SVG charts and CSS, a few lines of inline script,
/// nothing from the network) comparing runs: the comparison table, equity curves against the
/// benchmark with a log-scale toggle, drawdowns, rolling 12-month return and volatility, and for a
/// chosen run its weights over time, turnover and fees per year, monthly returns and key numbers.

#include <string>
#include <vector>

#include "ballast/backtests/backtest.hpp"

namespace ballast::backtests {

/// What the report needs of one run (small: a few doubles per session, weights sampled weekly).
struct ReportRun {
  std::string label;
  Summary summary;
  std::vector<Timestamp> times;
  std::vector<double> index;      ///< time-weighted growth of 1
  std::vector<double> benchmark;  ///< benchmark growth of 1 (empty without one)
  std::string benchmark_label;
  std::vector<std::string> symbols;
  std::vector<Timestamp> weight_times;  ///< sampled sessions for the weights chart
  std::vector<double> weights;          ///< weight_times x symbols, plus cash as the last column
  /// One-way turnover per calendar year: sum over its sessions of min(bought, sold) / value.
  std::vector<std::pair<int, double>> turnover_by_year;
  /// Runs with external flows only (else empty), per session: the portfolio's value, the money
  /// put in so far (initial value plus contributions less withdrawals) and the benchmark
  /// account's value (same flows; empty without a benchmark).
  std::vector<double> value, invested, benchmark_value;
};

/// Extracts the report data of a full-detail run.
[[nodiscard]] ReportRun MakeReportRun(const BacktestResult& result);

/// Renders the page. Runs appear in the given order (charts show at most the first 12).
[[nodiscard]] std::string RenderReport(const std::string& title,
                                       const std::vector<ReportRun>& runs);

}  // namespace ballast::backtests
