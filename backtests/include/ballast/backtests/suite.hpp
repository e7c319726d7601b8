#pragma once
/// Comparison suites and parameter sweeps: many backtests over data loaded once and shared
/// read-only, run in parallel with oneTBB across backtests (never inside one). Results are
/// identical for any thread count and run order. Format in docs/suites.md.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ballast/backtests/backtest.hpp"

namespace ballast::backtests {

/// One run of a suite: a base config with overrides applied.
struct SuiteRun {
  std::string label;        ///< "<base> / <variant>" (base part only with several bases)
  std::string base;         ///< base config path
  std::vector<std::string> sets;  ///< `key.path=json` overrides, in order
  BacktestConfig config;    ///< parsed with the overrides
};

struct Suite {
  std::string name;
  std::string origin;  ///< suite file
  std::vector<SuiteRun> runs;
};

/// Parses a suite file: `base` (a path or a list of paths, relative to the suite file) and
/// `variants` ([{"label", "set": {"key.path": value}}]) or `grid` ({"key.path": [values]}).
/// Every run's config is parsed up front, so a bad variant fails before anything runs.
[[nodiscard]] Suite LoadSuite(const std::string& path, const strategies::StrategyRegistry& registry);

struct SuiteOptions {
  int threads = 0;             ///< 0 = all hardware threads
  std::string out_dir;         ///< where per-run outputs go (empty = none)
  bool summaries_only = false; ///< per run, write only summary.json
  /// Called from worker threads after each finished run with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
  const std::atomic<bool>* stop = nullptr;  ///< set (e.g. by SIGINT) to stop starting new runs
};

struct SuiteResult {
  std::vector<std::optional<Summary>> summaries;  ///< per run, in suite order; nullopt = not run
  std::size_t finished = 0;
  std::size_t data_sets = 0;  ///< distinct market data loads
  bool interrupted = false;
};

/// Runs every run of the suite. Market data is loaded once per distinct (store, symbols, range,
/// benchmark, columns) and shared read-only by all runs that need it.
[[nodiscard]] SuiteResult RunSuite(const Suite& suite, const SuiteOptions& options);

/// Metrics a comparison can be sorted by.
[[nodiscard]] const std::vector<std::string>& SortKeys();
/// Value of metric `key` in a summary (benchmark metrics NaN without a benchmark).
[[nodiscard]] double MetricValue(const Summary& s, std::string_view key);
/// Whether larger is better for `key` (drawdown: closer to 0 is better, so larger).
[[nodiscard]] bool HigherIsBetter(std::string_view key);

/// Run indices (finished only), best first by `key`; ties keep suite order.
[[nodiscard]] std::vector<std::size_t> Rank(const Suite& suite, const SuiteResult& result, std::string_view key);

[[nodiscard]] std::string ComparisonTable(const Suite& suite, const SuiteResult& result, std::string_view key);
[[nodiscard]] std::string ComparisonCsv(const Suite& suite, const SuiteResult& result);
[[nodiscard]] std::string ComparisonJson(const Suite& suite, const SuiteResult& result, std::string_view key);

}  // namespace ballast::backtests
