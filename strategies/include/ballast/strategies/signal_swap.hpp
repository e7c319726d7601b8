#pragma once
/// `signal_swap`: holdings scored by technical signals; weak holdings swapped for the strongest
/// candidates of a watchlist; positions sized by strength tier; stop-loss, time-stop and
/// portfolio-stop exits; optional margin for strong signals. docs/signals.md has the rules.

#include <optional>
#include <string>
#include <vector>

#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/schedule.hpp"
#include "ballast/strategies/signals.hpp"

namespace ballast::strategies {

struct SignalSwapOptions {
  std::vector<std::string> holdings;   ///< the starting portfolio (equal weight on day one)
  std::vector<std::string> watchlist;  ///< candidates (holdings are candidates too once sold)
  std::string benchmark;               ///< alpha reference; a panel column (top-level benchmark)
  Schedule schedule{Frequency::kWeekly, Anchor::kFirst};
  signals::IndicatorParams indicators;
  signals::ScoringWeights scoring;
  signals::SizingOptions sizing;
  std::string risk_level = "medium";  ///< sizing.risk, for the tracker
  double weak_strength = 40.0;        ///< a holding below this is weak
  double weak_alpha = -0.05;          ///< ... or with alpha below this
  double buy_strength = 50.0;         ///< a candidate needs at least this
  double min_improvement = 15.0;      ///< strength points a swap must gain
  signals::Confidence min_confidence = signals::Confidence::kMedium;  ///< for a new position
  int max_swaps = 3;                                                  ///< per decision
  int min_positions = 5;
  int max_positions = 10;
  // Kelly cap on new money, from this run's closed positions.
  bool kelly = false;
  double kelly_multiplier = 0.5;  ///< half Kelly
  int kelly_min_trades = 20;
  // Margin: weights may sum above 1 only for positions stronger than margin_min_strength.
  bool margin = false;
  double margin_min_strength = 75.0;
  double max_margin = 0.25;    ///< borrowed / portfolio value at most this
  double cash_reserve = 0.30;  ///< share of that borrowing capacity left unused
  // Exits.
  std::optional<double> stop_loss = 0.08;       ///< sell at this fall below the entry price
  int time_stop_days = 60;                      ///< calendar days held before the time stop applies
  double time_stop_strength = 60.0;             ///< ... and it sells below this strength
  std::optional<double> portfolio_stop = 0.05;  ///< underperformance vs the benchmark
  int portfolio_window = 60;                    ///< sessions
  int portfolio_cooldown = 20;                  ///< sessions in cash after a portfolio stop
};

/// One scored symbol at a decision (what the tracker records).
struct ScoredSymbol {
  std::size_t col = 0;
  signals::Indicators indicators;
  signals::Signal signal;
  bool held = false;
};

/// Registers `signal_swap` (parser in signal_swap_config.cpp).
class StrategyRegistry;
void RegisterSignalSwap(StrategyRegistry& registry);

class SignalSwap final : public Strategy {
 public:
  explicit SignalSwap(SignalSwapOptions options);
  [[nodiscard]] std::string_view Type() const noexcept override { return "signal_swap"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

  /// Advisory use (`ballast advise`): one decision on the slice `ctx.row` for the portfolio in
  /// `ctx.portfolio`, as a scheduled decision would make it, after feeding the indicators every
  /// bar from `ctx.history_row`. `cost_basis` (per tradable column, 0 = unknown) sets the entry
  /// prices the stop loss compares with. Fills `target` (weights) and sends the decision's
  /// signals and recommendations to `ctx.events`. Throws a data error when the history is too
  /// short for the indicators.
  void Advise(const StrategyContext& ctx, const std::vector<double>& cost_basis, Target& target);
  /// Scores of every tradable symbol at the last fed bar (after Advise or Decide).
  [[nodiscard]] std::vector<ScoredSymbol> Scores(const StrategyContext& ctx) const {
    return ScoreAll(ctx);
  }
  [[nodiscard]] const SignalSwapOptions& Options() const noexcept { return o_; }

  /// Closed positions so far (for Kelly and the summary).
  [[nodiscard]] int Wins() const noexcept { return wins_; }
  [[nodiscard]] int Losses() const noexcept { return losses_; }

 private:
  void Init(const StrategyContext& ctx);
  void Feed(const StrategyContext& ctx);
  void Book(const StrategyContext& ctx);
  [[nodiscard]] ScoredSymbol ScoreOne(const StrategyContext& ctx, std::size_t col) const;
  [[nodiscard]] std::vector<ScoredSymbol> ScoreAll(const StrategyContext& ctx) const;
  void Rebalance(const StrategyContext& ctx, std::vector<bool> exits, Target& target);
  [[nodiscard]] double KellyCap() const;
  void RecordClose(double position_return);
  void EmitSignal(const StrategyContext& ctx, const ScoredSymbol& s, const char* action,
                  const char* suggested, double weight, bool margin, const char* reason) const;
  void Event(const StrategyContext& ctx, const char* type, std::string fields) const;

  SignalSwapOptions o_;
  bool init_ = false;
  bool warm_logged_ = false;
  std::vector<std::size_t> holding_cols_;
  std::ptrdiff_t bench_col_ = -1;
  std::vector<signals::SymbolIndicators> ind_;  // tradable columns, then the benchmark
  std::size_t fed_rows_ = 0;
  // Positions as seen from the portfolio view.
  std::vector<double> entry_price_, last_qty_;
  std::vector<Days> entry_day_;
  int wins_ = 0, losses_ = 0;
  double win_sum_ = 0.0, loss_sum_ = 0.0;
  // Portfolio stop: equity and benchmark over the window (ring buffers).
  std::vector<double> equity_ring_, bench_ring_;
  std::size_t ring_next_ = 0, ring_count_ = 0;
  std::size_t stopped_until_ = 0;  // session count
  std::size_t sessions_ = 0;
};

}  // namespace ballast::strategies
