#pragma once
/// Performance statistics of a run, on its time-weighted (TWR) index, so external cash flows never
/// count as return. Definitions (docs/metrics.md): daily returns r_t = (V_t - flow_t) / V_{t-1} - 1
/// for t >= 1; the index I_0 = (V_0 - flow_0) / initial capital, I_t = I_{t-1} (1 + r_t);
/// total_return = I_T - 1 (= V_T / V_0 - 1 without flows); cagr = (V_T/V_0)^(365.25/calendar days)
/// - 1; volatility = stdev(r, ddof 1)
/// * sqrt(252); sharpe = mean(r - rf_d) / stdev(r - rf_d) * sqrt(252) with rf_d = (1+rf)^(1/252)-1;
/// sortino = mean(r - rf_d) / sqrt(mean(min(0, r - rf_d)^2)) * sqrt(252); max_drawdown =
/// min(V / cummax(V) - 1); calmar = cagr / |max_drawdown|.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ballast/engine/run_record.hpp"

namespace ballast {

struct BenchmarkStats {
  std::string symbol;
  /// The benchmark as an account (BenchmarkAccount): with `same_flows`, it received every
  /// contribution and withdrawal the portfolio did, on the same day.
  bool same_flows = true;
  double final_value = 0.0;
  std::optional<double> irr;  ///< money-weighted, from the same flows as the portfolio's IRR
  double total_return = 0.0;  ///< time-weighted (the price's return): flows never move it
  double cagr = 0.0;
  double volatility = 0.0;
  double beta = 0.0;
  double alpha = 0.0;  ///< annualised: (mean(r_p - rf_d) - beta * mean(r_b - rf_d)) * 252
  double correlation = 0.0;
  double tracking_error = 0.0;     ///< stdev(r_p - r_b) * sqrt(252)
  double information_ratio = 0.0;  ///< mean(r_p - r_b) * 252 / tracking_error
};

/// Trading costs of one calendar year, against the portfolio's average value that year.
struct YearCosts {
  int year = 0;
  double commissions = 0.0;
  double slippage = 0.0;
  double average_value = 0.0;  ///< mean of the year's daily equity
  double cost_ratio = 0.0;     ///< (commissions + slippage) / average_value
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
  std::uint64_t investments = 0;
  double total_contributed = 0.0;   ///< initial capital + contributions
  double total_withdrawn = 0.0;     ///< withdrawals (>= 0)
  double net_flows = 0.0;           ///< total_contributed - total_withdrawn
  double profit = 0.0;              ///< final_value - net_flows
  std::optional<double> irr;        ///< money-weighted annual return (XIRR, 365-day years)
  double margin_interest = 0.0;     ///< interest paid on borrowed cash
  double dividends_received = 0.0;  ///< cash dividends credited (raw or split-adjusted prices)
  double max_gross_leverage = 0.0;  ///< largest gross exposure / equity at a close
  double cost_ratio = 0.0;  ///< annual costs as a fraction of average value: fees / mean(V) / years
  // Closed trades: each sell matched first-in-first-out against earlier buys (ClosedTrades).
  std::uint64_t closed_trades = 0;
  std::uint64_t winning_trades = 0;
  double win_rate = std::numeric_limits<double>::quiet_NaN();  ///< NaN with no closed trade
  /// Cost-weighted mean days from buy to sell of the closed pieces; NaN with none.
  double avg_holding_days = std::numeric_limits<double>::quiet_NaN();
  std::vector<YearCosts> costs_by_year;
  double risk_free_rate = 0.0;
  std::optional<BenchmarkStats> benchmark;
};

/// The time-weighted index of a run: I_0 = (V_0 - flow_0) / initial_value, I_t = I_{t-1} *
/// (V_t - flow_t) / V_{t-1}. External flows never move it. Metrics, outputs and reports all use it.
[[nodiscard]] std::vector<double> TimeWeightedIndex(const RunRecord& record, double initial_value);

/// XIRR: the annual rate r with sum_k cf_k / (1 + r)^((t_k - t_0) / 365 days) = 0 (cash flows from
/// the investor's side: contributions negative, the final value positive). nullopt when there is
/// no sign change or no root in (-99.99%, +1e6%).
[[nodiscard]] std::optional<double> Xirr(const std::vector<Timestamp>& times,
                                         const std::vector<double>& flows);

/// Round trips of a run, for every strategy: each sell is matched first-in-first-out against the
/// symbol's earlier buys (cost per share including the buy's commission; proceeds net of the
/// sell's); a sell with a matched part is one closed trade, a win when its profit is > 0. Sells
/// beyond the bought quantity are not counted. Holding days are weighted by the matched cost.
struct ClosedTradeStats {
  std::uint64_t closed = 0, wins = 0, losses = 0;
  double profit = 0.0;
  double avg_holding_days = std::numeric_limits<double>::quiet_NaN();
};
[[nodiscard]] ClosedTradeStats ClosedTrades(const std::vector<TradeRecord>& trades);

/// The benchmark as an account: `initial_value` (plus the first day's flow) bought at the first
/// price and, with `same_flows`, every later external flow of the portfolio invested (or, a
/// withdrawal, sold) at that day's price, so a DCA run and its benchmark get the same money.
/// Without, the initial value's growth alone. A flow on a day without a price waits in cash for
/// the next price; a withdrawal beyond the account's value empties it. All NaN when the first
/// price is missing; NaN where a price is.
[[nodiscard]] std::vector<double> BenchmarkAccount(std::span<const double> prices,
                                                   std::span<const double> flows,
                                                   double initial_value, bool same_flows);

/// Computes the summary. `initial_value` is the capital before the first trade.
/// `benchmark_same_flows`: the benchmark account gets the portfolio's flows (BenchmarkAccount).
[[nodiscard]] Summary ComputeSummary(const RunRecord& record, double initial_value,
                                     double risk_free_rate, const std::string& benchmark_symbol,
                                     bool benchmark_same_flows = true);

}  // namespace ballast
