#pragma once
/// Runs one backtest: this is `main`'s choice of parts for a backtest (ReplaySource, SimClock,
/// SimVenue, DataSessions) wired to the same kernel, planner and order manager live trading uses.

#include <memory>
#include <string>
#include <vector>

#include "ballast/backtests/backtest_config.hpp"
#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/metrics.hpp"
#include "ballast/engine/run_record.hpp"

namespace ballast::backtests {

struct BacktestResult {
  BacktestConfig config;
  std::shared_ptr<const BarPanel> panel;
  std::size_t first_row = 0;  ///< the run's first slice
  std::size_t tradable = 0;
  std::vector<std::string> symbols;  ///< tradable symbols, panel order
  RunRecord record;
  Summary summary;
  std::string run_tag;
  /// The price basis each side ran on (MarketData::prices, MarketData::benchmark_prices).
  std::string prices, benchmark_prices;
};

/// Market data for a backtest: the panel and where the run starts in it.
struct MarketData {
  std::shared_ptr<const BarPanel> panel;
  std::size_t first_row = 0;
  std::size_t history_row = 0;  ///< first row trailing windows may read (< first_row with history)
  std::size_t tradable = 0;
  std::ptrdiff_t benchmark = -1;
  /// The price basis of the tradable series as run ("adjusted", "split_adjusted", "raw",
  /// "unknown", or "mixed") and of the benchmark's ("" without one).
  std::string prices, benchmark_prices;
};

/// Loads and aligns the data `config` needs, checking symbols and dates against the store
/// (config errors name the key path).
[[nodiscard]] MarketData LoadMarketData(const BacktestConfig& config);

/// How much a run records: everything (for outputs), or only what the summary needs (sweeps:
/// no per-day weights, no events).
enum class RunDetail : unsigned char { kFull, kSummary };

/// Runs the backtest on already loaded data (read-only; may be shared by many runs).
[[nodiscard]] BacktestResult RunBacktest(const BacktestConfig& config, const MarketData& data,
                                         RunDetail detail = RunDetail::kFull);

/// Loads and runs.
[[nodiscard]] BacktestResult RunBacktest(const BacktestConfig& config);

}  // namespace ballast::backtests
