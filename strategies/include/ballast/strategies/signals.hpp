#pragma once
/// Technical signals on daily bars, computed incrementally: each `Add` is O(1) (ring buffers and
/// exponential averages; no window is rescanned). Used by the `signal_swap` strategy and by
/// `ballast advise`. Formulas and the strength score are documented in docs/signals.md.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ballast::strategies::signals {

/// Simple moving average over `n` values (running sum over a ring buffer).
class Sma {
 public:
  explicit Sma(int n);
  void Add(double x);
  [[nodiscard]] bool Ready() const noexcept { return count_ >= ring_.size(); }
  [[nodiscard]] double Value() const noexcept;

 private:
  std::vector<double> ring_;
  std::size_t next_ = 0, count_ = 0;
  double sum_ = 0.0;
};

/// Exponential moving average with alpha = 2 / (n + 1), seeded with the simple average of the
/// first `n` values (the usual charting convention).
class Ema {
 public:
  explicit Ema(int n);
  void Add(double x);
  [[nodiscard]] bool Ready() const noexcept { return count_ >= n_; }
  [[nodiscard]] double Value() const noexcept { return value_; }

 private:
  int n_;
  int count_ = 0;
  double alpha_, sum_ = 0.0, value_ = 0.0;
};

/// Wilder's RSI: the first average gain and loss are simple averages of the first `n` changes,
/// then avg = (avg * (n - 1) + x) / n. RSI = 100 - 100 / (1 + gain / loss); 100 when no loss.
class Rsi {
 public:
  explicit Rsi(int n = 14);
  void Add(double close);
  [[nodiscard]] bool Ready() const noexcept { return changes_ >= n_; }
  [[nodiscard]] double Value() const noexcept;

 private:
  int n_;
  int changes_ = 0;
  bool has_prev_ = false;
  double prev_ = 0.0, gain_ = 0.0, loss_ = 0.0;
};

/// MACD: EMA(fast) - EMA(slow) of the close; signal = EMA(signal) of the MACD line (fed once the
/// slow EMA is ready); histogram = MACD - signal.
class Macd {
 public:
  Macd(int fast = 12, int slow = 26, int signal = 9);
  void Add(double close);
  [[nodiscard]] bool Ready() const noexcept { return signal_.Ready(); }
  [[nodiscard]] double Line() const noexcept { return fast_.Value() - slow_.Value(); }
  [[nodiscard]] double Signal() const noexcept { return signal_.Value(); }
  [[nodiscard]] double Histogram() const noexcept { return Line() - Signal(); }
  /// The histogram one bar earlier (NaN until two histograms exist).
  [[nodiscard]] double PreviousHistogram() const noexcept { return prev_hist_; }

 private:
  Ema fast_, slow_, signal_;
  double prev_hist_;
};

/// Trailing return over `n` bars: close / close n bars ago - 1.
class TrailingReturn {
 public:
  explicit TrailingReturn(int n);
  void Add(double close);
  [[nodiscard]] bool Ready() const noexcept { return count_ > n_; }
  [[nodiscard]] double Value() const noexcept;

 private:
  std::size_t n_;
  std::vector<double> ring_;
  std::size_t next_ = 0, count_ = 0;
};

struct IndicatorParams {
  int rsi = 14;
  int macd_fast = 12, macd_slow = 26, macd_signal = 9;
  int ma_short = 50, ma_long = 200;
  int volume_window = 20;
  int return_window = 20;  ///< trailing return (and alpha) window, in bars
};

/// One symbol's indicator values at its latest bar. NaN where an indicator is not warmed up.
struct Indicators {
  double close = 0.0;
  double rsi = 0.0;
  double macd = 0.0, macd_signal = 0.0, macd_hist = 0.0, macd_hist_prev = 0.0;
  double ma_short = 0.0, ma_long = 0.0;
  double volume_ratio = 0.0;     ///< today's volume / average volume (NaN without volume data)
  double trailing_return = 0.0;  ///< over IndicatorParams::return_window
  std::size_t bars = 0;          ///< bars seen
};

/// Every indicator of one symbol, fed one daily bar at a time.
class SymbolIndicators {
 public:
  explicit SymbolIndicators(const IndicatorParams& p = {});
  /// A bar: close > 0; volume <= 0 or NaN = unknown (the volume ratio stays NaN).
  void Add(double close, double volume);
  [[nodiscard]] Indicators Snapshot() const;
  [[nodiscard]] std::size_t Bars() const noexcept { return bars_; }

 private:
  Rsi rsi_;
  Macd macd_;
  Sma ma_short_, ma_long_, volume_avg_;
  TrailingReturn ret_;
  double close_ = 0.0, volume_ = 0.0;
  std::size_t bars_ = 0;
};

enum class Confidence : std::uint8_t { kLow, kMedium, kHigh };
[[nodiscard]] std::string_view ToString(Confidence c) noexcept;

/// The strength score's weighting (docs/signals.md). Each component is clamped to ± its weight.
struct ScoringWeights {
  double base = 50.0;
  double rsi = 30.0;    ///< RSI 30 -> +rsi (oversold), 70 -> -rsi (overbought), linear between
  double macd = 20.0;   ///< histogram > 0 and rising: +macd; > 0: +macd/2; mirrored below 0
  double trend = 20.0;  ///< close > MA50 > MA200: +trend; close > MA200: +trend/2; mirrored
  double performance = 30.0;  ///< alpha vs the benchmark, full weight at +-alpha_full_scale
  double alpha_full_scale = 0.10;
};

struct Signal {
  double strength = 50.0;  ///< 0..100
  Confidence confidence = Confidence::kLow;
  double alpha = 0.0;  ///< trailing return minus the benchmark's (NaN when either is not ready)
  double rsi_points = 0.0, macd_points = 0.0, trend_points = 0.0, performance_points = 0.0;
};

/// Strength 0..100 = base + components, clamped. Confidence: high when at least three of the four
/// components point the way of the score and volume is at least average (or unknown); low when
/// fewer than two do or an indicator is not warmed up; medium otherwise. `benchmark_return` is
/// the benchmark's trailing return over the same window (NaN: no performance component).
[[nodiscard]] Signal Score(const Indicators& x, double benchmark_return, const ScoringWeights& w);

/// Position sizing by strength tier (docs/signals.md).
struct SizingTier {
  double min_strength;  ///< tier covers [min_strength, the next tier's min_strength or 100]
  double min_weight, max_weight;
};

struct SizingOptions {
  /// Defaults: 80-100 -> 15-20 %, 70-80 -> 10-15 %, 60-70 -> 5-10 %, 50-60 -> 3-5 %, < 50 none.
  std::vector<SizingTier> tiers{
      {80, 0.15, 0.20}, {70, 0.10, 0.15}, {60, 0.05, 0.10}, {50, 0.03, 0.05}};
  double risk_multiplier = 1.0;  ///< low 0.75, medium 1.0, high 1.25
  double max_weight = 0.25;      ///< per position, after the multiplier
};

/// Weight for a position of this strength: linear within its tier (the tier's min weight at its
/// lower edge, max weight at its upper edge), times the risk multiplier, capped at max_weight.
/// 0 below the lowest tier.
[[nodiscard]] double PositionWeight(double strength, const SizingOptions& o);

/// Kelly fraction f* = W - (1 - W) / R for win rate W and payoff ratio R = average win / average
/// loss (both > 0). 0 when f* <= 0 (no edge: no new money), 1 at most.
[[nodiscard]] double KellyFraction(double win_rate, double payoff_ratio);

}  // namespace ballast::strategies::signals
