#pragma once
/// Performance statistics of a run, on its daily equity curve. Definitions (docs/metrics.md):
/// daily simple returns r_t = V_t / V_{t-1} - 1 for t >= 1; total_return = V_T / V_0 - 1 with V_0
/// the initial capital; cagr = (V_T/V_0)^(365.25/calendar days) - 1; volatility = stdev(r, ddof 1)
/// * sqrt(252); sharpe = mean(r - rf_d) / stdev(r - rf_d) * sqrt(252) with rf_d = (1+rf)^(1/252)-1;
/// sortino = mean(r - rf_d) / sqrt(mean(min(0, r - rf_d)^2)) * sqrt(252); max_drawdown =
/// min(V / cummax(V) - 1); calmar = cagr / |max_drawdown|.

#include <cstdint>
#include <optional>
#include <string>

#include "ballast/engine/run_record.hpp"

namespace ballast {

struct BenchmarkStats {
  std::string symbol;
  double total_return = 0.0;
  double cagr = 0.0;
  double volatility = 0.0;
  double beta = 0.0;
  double alpha = 0.0;  ///< annualised: (mean(r_p - rf_d) - beta * mean(r_b - rf_d)) * 252
  double correlation = 0.0;
  double tracking_error = 0.0;     ///< stdev(r_p - r_b) * sqrt(252)
  double information_ratio = 0.0;  ///< mean(r_p - r_b) * 252 / tracking_error
};

struct Summary {
  Timestamp start = 0;
  Timestamp end = 0;
  std::int64_t sessions = 0;
  double calendar_days = 0.0;
  double initial_value = 0.0;
  double final_value = 0.0;
  double total_return = 0.0;
  double cagr = 0.0;
  double volatility = 0.0;
  double sharpe = 0.0;
  double sortino = 0.0;
  double max_drawdown = 0.0;
  Timestamp max_drawdown_peak = 0;
  Timestamp max_drawdown_trough = 0;
  std::optional<Timestamp> max_drawdown_recovery;
  double calmar = 0.0;
  double turnover = 0.0;  ///< annual one-way turnover: sum_t min(bought_t, sold_t) / V_t / years
  double commissions = 0.0;
  double slippage = 0.0;
  double fees = 0.0;  ///< commissions + slippage
  std::uint64_t trades = 0;
  std::uint64_t rebalances = 0;
  double risk_free_rate = 0.0;
  std::optional<BenchmarkStats> benchmark;
};

/// Computes the summary. `initial_value` is the capital before the first trade.
[[nodiscard]] Summary ComputeSummary(const RunRecord& record, double initial_value,
                                     double risk_free_rate, const std::string& benchmark_symbol);

}  // namespace ballast
