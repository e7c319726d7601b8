#pragma once
/// Comparison suites and parameter sweeps: many backtests over data loaded once and shared
/// read-only, run in parallel with oneTBB across backtests (never inside one). Results are
/// identical for any thread count and run order. Format in docs/suites.md.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/report.hpp"

namespace ballast::backtests {

/// One run of a suite: a base config with overrides. Only the overrides are kept; the config is
/// parsed again when the run starts (Suite::Config), so memory does not grow with the number of
/// variants beyond their summaries.
struct SuiteRun {
  std::string label;  ///< "<base> / <variant>" (base part only with several bases)
  std::size_t base = 0;
  std::vector<std::pair<std::string, std::string>> sets;  ///< (key.path, JSON value), in order
  std::size_t data = 0;  ///< which distinct market data the run needs
};

class Suite {
 public:
  std::string name;
  std::string origin;  ///< suite file
  std::vector<std::string> base_paths;
  std::vector<SuiteRun> runs;
  std::vector<std::size_t> data_representatives;  ///< for each data index, one run that needs it

  /// The parsed config of run `i` (base + global sets + the run's sets).
  [[nodiscard]] BacktestConfig Config(std::size_t i) const;
  /// `key.path=json` text of run `i`'s overrides.
  [[nodiscard]] std::vector<std::string> SetTexts(std::size_t i) const;

 private:
  friend Suite LoadSuite(const std::string&, const strategies::StrategyRegistry&,
                         const std::vector<std::string>&, std::size_t);
  std::vector<std::shared_ptr<const ConfigDocument>> base_docs_;
  std::vector<std::string> global_sets_;
  const strategies::StrategyRegistry* registry_ = nullptr;
};

/// The default cap on a suite's runs (`ballast suite --max-runs`).
inline constexpr std::size_t kDefaultMaxRuns = 100'000;

/// Parses a suite file: `base` (a path, a {"label", "config"} object, or a list of them; paths
/// relative to the suite file) and `variants` ([{"label", "set": {"key.path": value}}]) or `grid`
/// ({"key.path": [values]}). `global_sets` (`key.path=value`, as `ballast backtest --set`) apply to
/// every run before its own. Every run's config is parsed up front, so a bad variant fails before
/// anything runs. `registry` must outlive the suite. More than `max_runs` runs (counted before
/// the grid is expanded) is a config error giving the count.
[[nodiscard]] Suite LoadSuite(const std::string& path, const strategies::StrategyRegistry& registry,
                              const std::vector<std::string>& global_sets = {},
                              std::size_t max_runs = kDefaultMaxRuns);

struct SuiteOptions {
  int threads = 0;              ///< 0 = all hardware threads
  std::string out_dir;          ///< where per-run outputs go (empty = none)
  bool summaries_only = false;  ///< per run, write only summary.json
  bool workbook = true;         ///< per run, also tracking.xlsx (full outputs only)
  /// Called from worker threads after each finished run with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
  const std::atomic<bool>* stop = nullptr;  ///< set (e.g. by SIGINT) to stop starting new runs
};

struct SuiteResult {
  std::vector<std::optional<Summary>> summaries;  ///< per run, in suite order; nullopt = not run
  std::size_t finished = 0;
  std::size_t data_sets = 0;  ///< distinct market data loads
  bool interrupted = false;
  std::vector<std::optional<ReportRun>> report_runs;  ///< per run, when full outputs were written
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
[[nodiscard]] std::vector<std::size_t> Rank(const Suite& suite, const SuiteResult& result,
                                            std::string_view key);

[[nodiscard]] std::string ComparisonTable(const Suite& suite, const SuiteResult& result,
                                          std::string_view key);
[[nodiscard]] std::string ComparisonCsv(const Suite& suite, const SuiteResult& result);
[[nodiscard]] std::string ComparisonJson(const Suite& suite, const SuiteResult& result,
                                         std::string_view key);

}  // namespace ballast::backtests
