#pragma once
/// A backtest config parsed once into immutable typed values. Unknown keys, wrong types and bad
/// values are config errors naming the file and key path (exit code 2).

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ballast/adapters/sim/sim_venue.hpp"
#include "ballast/data/price_basis.hpp"
#include "ballast/engine/config_node.hpp"
#include "ballast/engine/costs.hpp"
#include "ballast/engine/planner.hpp"
#include "ballast/strategies/cash_flows.hpp"
#include "ballast/strategies/registry.hpp"

namespace ballast::backtests {

struct BacktestConfig {
  std::string name;
  std::string origin;      ///< config file path (for messages)
  std::string store_path;  ///< resolved against the config file's directory
  std::optional<Days> start;
  std::optional<Days> end;
  /// data.use_history_before_start: load bars before `start` so trailing windows can read them
  /// (the run itself still starts at `start`).
  bool use_history_before_start = false;
  /// data.prices: the basis the run trades on, built from a raw store's corporate actions
  /// (adjusted = total return; raw and split_adjusted let the kernel apply what is left).
  data::PriceBasis prices = data::PriceBasis::kAdjusted;
  double initial_cash = 100000.0;
  /// portfolio.dividends: "reinvest" buys more of the symbol at the ex-date close; "cash" keeps it.
  bool reinvest_dividends = false;
  ShareMode shares = ShareMode::kFractional;
  double lot_size = 1.0;
  strategies::StrategySpec strategy;
  sim::FillModel fill = sim::FillModel::kClose;
  CommissionModel commission;
  double slippage_bps = 0.0;
  double min_trade_notional = 0.0;
  /// execution.order_type; limit orders are day orders `limit_offset_bps` from the last price.
  OrderType order_type = OrderType::kMarket;
  double limit_offset_bps = 10.0;
  /// constraints.max_weight: 0.4 when a constraints section is given, else no cap.
  double max_weight = std::numeric_limits<double>::infinity();
  double max_turnover = 0.0;  ///< constraints.max_turnover (0 = none)
  double cash_reserve = 0.0;  ///< constraints.cash_reserve
  std::vector<strategies::CashFlowRule> cash_flows;
  // Margin account (config `margin`); the defaults are a cash account.
  double leverage = 1.0;
  double max_leverage = 1.0;
  double interest_rate = 0.0;
  double maintenance = 0.0;  ///< scheduled contributions / withdrawals
  std::string benchmark;     ///< empty = none
  /// benchmark.flows: "same" (default) gives the benchmark account the portfolio's external
  /// flows on the same days; "none" its initial value alone.
  bool benchmark_same_flows = true;
  /// benchmark.prices: "adjusted" (default: total return) or "raw" (price return: the split-
  /// adjusted close, its dividends not counted).
  bool benchmark_price_return = false;
  double risk_free_rate = 0.0;
  std::string resolved_json;  ///< the config after --set, as run
  /// Identity of the run for client order ids: the resolved config with the store reduced to its
  /// file name, so the same config gives the same ids wherever the store lives.
  std::string run_tag;
};

/// The planner's options from a config (backtests and live sessions plan the same way).
[[nodiscard]] PlannerOptions MakePlannerOptions(const BacktestConfig& c);

/// Parses `doc` (already carrying any --set overrides).
[[nodiscard]] BacktestConfig ParseBacktestConfig(const ConfigDocument& doc,
                                                 const strategies::StrategyRegistry& registry);

/// Loads a config file, applies `--set` assignments and parses it.
[[nodiscard]] BacktestConfig LoadBacktestConfig(const std::string& path,
                                                const std::vector<std::string>& sets,
                                                const strategies::StrategyRegistry& registry);

}  // namespace ballast::backtests
