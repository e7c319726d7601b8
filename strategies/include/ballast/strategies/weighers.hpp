#pragma once
/// Weighers: target weights computed from data on a trailing window instead of a fixed list
/// (config `strategy.weights`). Window semantics: prices with dates in [t - lookback, t]
/// inclusive ("3M" = 3 calendar months, clamped to month ends; "63D" = the last 63 daily returns),
/// simple daily returns, only bars from the run's first session on (or earlier ones with
/// `data.use_history_before_start`); a symbol without a bar on a
/// session is carried at its last close. Fewer than 2 returns gives no weights.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/strategy.hpp"

namespace ballast::strategies {

enum class WeightModel : unsigned char {
  kEqual,
  kInverseVol,
  kRiskParity,
  kMinVariance,
  kMaxSharpe,
  kRank,    ///< top `positions` by one score
  kFactor,  ///< top `positions` by a weighted sum of z-scored factor scores
};
/// Scores from prices (docs/strategies.md, "Rank and factor models"); higher is better.
enum class Score : unsigned char {
  kMomentum,       ///< 12-1 month return: P(t - 1M) / P(t - 12M) - 1
  kLowVolatility,  ///< -stdev of the last 90 daily returns (ddof 1)
  kQuality,        ///< mean / stdev of the last 252 daily returns (return stability)
  kValue,          ///< long-term reversal: -(P(t - 12M) / P(t - 36M) - 1)
  kReturn,         ///< return over the `lookback` window (rank only)
};
/// How rank and factor models weigh the assets they select.
enum class Weighting : unsigned char { kEqual, kRank, kModel };
enum class CovarianceKind : unsigned char { kSample, kLedoitWolf };

struct WeigherConfig {
  WeightModel model = WeightModel::kEqual;
  int lookback_months = 3;  ///< > 0: calendar months
  int lookback_days = 0;    ///< > 0: this many daily returns instead
  int warmup = 0;           ///< no allocation before this many sessions (the first is session 0)
  bool short_history_equal = false;  ///< too little history: equal weights instead of no change
  std::vector<double> budgets;       ///< risk parity risk budgets (empty = equal)
  double min_weight = 0.0;           ///< min_variance / max_sharpe bounds per asset
  double max_weight = 1.0;
  CovarianceKind covariance = CovarianceKind::kSample;
  double risk_free_rate = 0.0;  ///< max_sharpe: annual rate, rf/252 per session
  // rank / factor
  std::vector<std::pair<Score, double>> factors;  ///< score and its weight in the composite
  std::size_t positions = 0;                      ///< how many assets to select
  Weighting weighting = Weighting::kEqual;
  std::shared_ptr<const WeigherConfig> inner;  ///< Weighting::kModel: the model for the selection

  /// Parses the `weights` node; `universe_size` checks the budgets.
  static WeigherConfig Parse(const ConfigNode& weights, std::size_t universe_size);
};

class Weigher {
 public:
  explicit Weigher(WeigherConfig config) : config_(std::move(config)) {}
  [[nodiscard]] const WeigherConfig& Config() const noexcept { return config_; }

  /// Weights for ctx.row (one per tradable symbol, summing to 1) into `out`; false when the window
  /// holds fewer than 2 returns (or a symbol has no price in it) and short_history is "cash".
  /// Windows start no earlier than ctx.history_row.
  [[nodiscard]] bool Compute(const StrategyContext& ctx, std::vector<double>& out);

 private:
  /// Rank and factor models: scores, selection, then weights of the selected columns.
  [[nodiscard]] bool Select(const StrategyContext& ctx, std::vector<double>& out);
  WeigherConfig config_;
  std::vector<std::string> last_selection_;  // logged when it changes
};

/// Score `score` of column `col` on ctx.row (NaN when the history is too short); `lookback_*` is
/// the window of Score::kReturn.
[[nodiscard]] double ScoreOf(const StrategyContext& ctx, std::size_t col, Score score,
                             int lookback_months, int lookback_days);

/// Inverse volatility: w_i proportional to 1 / stdev(returns_i) (ddof 1).
[[nodiscard]] std::vector<double> InverseVolWeights(const std::vector<double>& returns,
                                                    std::size_t rows, std::size_t cols);
/// Equal risk contribution (risk parity) on covariance `cov` (n x n, row-major), long-only and
/// fully invested, with risk budgets `budgets` (sum to 1): solved by cyclical coordinate descent
/// until every risk contribution w_i (C w)_i / (w' C w) matches its budget to 1e-12 relative.
[[nodiscard]] std::vector<double> RiskParityWeights(const std::vector<double>& cov, std::size_t n,
                                                    const std::vector<double>& budgets);
/// Minimum variance: argmin w'Cw subject to sum(w) = 1 and lo <= w_i <= hi (needs n*lo <= 1 <=
/// n*hi), by a primal active-set method: exact up to the linear solves, finite steps.
[[nodiscard]] std::vector<double> MinVarianceWeights(const std::vector<double>& cov, std::size_t n,
                                                     double lo, double hi);
/// Maximum Sharpe ratio (tangency): argmax e'w / sqrt(w'Cw) subject to sum(w) = 1 and lo <= w_i
/// <= hi, where e = mean excess returns; by walking the piecewise-affine efficient frontier from
/// the minimum-variance portfolio (critical line), with the Sharpe maximum of each piece in closed
/// form. std::nullopt when no feasible portfolio has a positive excess return.
[[nodiscard]] std::optional<std::vector<double>> MaxSharpeWeights(const std::vector<double>& cov,
                                                                  const std::vector<double>& excess,
                                                                  std::size_t n, double lo,
                                                                  double hi);
/// Ledoit-Wolf (2004) shrinkage covariance as scikit-learn's `ledoit_wolf` computes it.
[[nodiscard]] std::vector<double> LedoitWolfCovariance(const std::vector<double>& returns,
                                                       std::size_t rows, std::size_t cols);
/// Mean and sample stdev (ddof 1; 0 for fewer than two values) of `x`.
[[nodiscard]] std::pair<double, double> MeanStdev(const std::vector<double>& x);
/// (x_i - mean) / sample stdev for each value; all 0 when the values have no dispersion.
[[nodiscard]] std::vector<double> ZScores(const std::vector<double>& x);
/// Sample covariance (ddof 1) of `returns` (rows x cols, row-major).
[[nodiscard]] std::vector<double> SampleCovariance(const std::vector<double>& returns,
                                                   std::size_t rows, std::size_t cols);

}  // namespace ballast::strategies
