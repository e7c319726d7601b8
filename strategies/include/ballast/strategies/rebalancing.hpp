#pragma once
/// The rebalancing strategies (see docs/strategies.md):
/// - `calendar`: rebalance to the targets on a schedule (first/last or n-th session of each
///   period), optionally only when drift exceeds a tolerance;
/// - `buy_and_hold`: allocate once at the first session;
/// - `dca`: invest a fixed amount every period (new contributions or the account's own cash),
///   by weight or underweight first, with an optional drift-triggered full rebalance;
/// - `threshold`: check drift every period and rebalance when a band is breached, to the targets
///   or to the band edge.
/// Each runs its first allocation on the run's first session (with a weights model: on the first
/// day the model has weights). Targets come from a TargetSource (fixed, dated or a model).

#include <optional>
#include <vector>

#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/schedule.hpp"
#include "ballast/strategies/target_source.hpp"

namespace ballast::strategies {

class CalendarRebalance final : public Strategy {
 public:
  CalendarRebalance(TargetSource targets, Schedule schedule, std::optional<double> only_if_drift)
      : targets_(std::move(targets)), schedule_(schedule), only_if_drift_(only_if_drift) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "calendar"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

 private:
  TargetSource targets_;
  Schedule schedule_;
  std::optional<double> only_if_drift_;
  std::vector<double> current_;
  bool allocated_ = false;
};

class BuyAndHold final : public Strategy {
 public:
  explicit BuyAndHold(std::vector<double> weights) : weights_(std::move(weights)) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "buy_and_hold"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

 private:
  std::vector<double> weights_;
};

struct DcaOptions {
  Schedule schedule;
  double investment_amount = 0.0;
  bool funding_contribution = true;  ///< false: draw down the account's cash
  Route route = Route::kByWeight;
  double min_investment_per_symbol = 0.0;
  std::optional<double> rebalance_threshold;  ///< absolute drift that triggers a full rebalance
};

class Dca final : public Strategy {
 public:
  Dca(TargetSource targets, DcaOptions options) : targets_(std::move(targets)), o_(options) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "dca"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

 private:
  TargetSource targets_;
  DcaOptions o_;
  std::vector<double> current_;
  std::vector<double> reach_;  // the targets capped at max_weight (of the invested part)
  bool allocated_ = false;
};

struct Band {
  std::optional<double> absolute;  ///< breach when |w - t| > absolute
  std::optional<double> relative;  ///< breach when |w / t - 1| > relative
  /// Half-width of symbol i's band: the tighter of the rules given.
  [[nodiscard]] double HalfWidth(double target) const noexcept;
};

struct ThresholdOptions {
  Schedule check;
  Band band;
  bool to_band_edge = false;
};

class ThresholdRebalance final : public Strategy {
 public:
  ThresholdRebalance(TargetSource targets, ThresholdOptions options)
      : targets_(std::move(targets)), o_(options) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "threshold"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;
  /// On a check day, the bands are watched until the session ends: a further slice of that
  /// session (live prices between checks) is checked against the same targets.
  [[nodiscard]] bool Recheck(const StrategyContext& ctx, Target& target) override;

 private:
  bool CheckBands(const StrategyContext& ctx, const std::vector<double>& w, Target& target);

  TargetSource targets_;
  ThresholdOptions o_;
  std::vector<double> current_;
  bool allocated_ = false;
  std::vector<double> checked_;  // the targets of the last check day's bands
  Days checked_day_{};
  bool has_checked_ = false;
};

}  // namespace ballast::strategies
