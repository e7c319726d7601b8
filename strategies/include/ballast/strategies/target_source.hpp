#pragma once
/// Where a rebalancing strategy's targets come from: fixed weights (`targets`), a dated schedule
/// (`schedule`), or a weights model over a `universe` (`weights`, docs/strategies.md). calendar,
/// threshold and dca all read their targets through this, so every model works with each.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/targets.hpp"
#include "ballast/strategies/weighers.hpp"

namespace ballast::strategies {

/// An age-based glide path: a blend s * aggressive + (1 - s) * safe, where the aggressive share s
/// follows the investor's age on the backtest's clock (docs/strategies.md, "Glide path by age").
struct GlidePath {
  std::vector<double> aggressive, safe;  ///< over the source's symbols
  std::optional<Days> birth;             ///< birth date (or Jan 1 of birth_year)
  double age_at_start = 0.0;             ///< when no birth date: age on the run's first session
  std::vector<std::pair<double, double>> table;  ///< (age, share), increasing ages; else the rule
  double rule = 110.0;                           ///< share = (rule - age) / 100, clamped to [0, 1]

  /// Age in years (days / 365.25) on `day`, given the run's first session.
  [[nodiscard]] double AgeOn(Days day, Days first) const;
  /// The aggressive share at `age`: the table interpolated linearly (flat beyond its ends).
  [[nodiscard]] double ShareAt(double age) const;
};

class TargetSource {
 public:
  /// Reads `targets`/`schedule`, or `universe` + `weights`, from a strategy node.
  static TargetSource Parse(const ConfigNode& strategy);

  [[nodiscard]] const std::vector<std::string>& Symbols() const noexcept { return symbols_; }

  /// Call once per slice. The targets in force today, or nullptr when a model has none yet
  /// (warm-up, or a window too short). A model recomputes its weights only when `recompute` is
  /// true (the strategy's own schedule), and keeps them otherwise; a failed recomputation gives
  /// nullptr for that day. Fixed targets ignore `recompute` and log schedule changes.
  [[nodiscard]] const std::vector<double>* Today(const StrategyContext& ctx, bool recompute);

 private:
  std::vector<std::string> symbols_;
  std::optional<TargetSchedule> fixed_;
  std::optional<Weigher> weigher_;
  std::optional<GlidePath> glide_;
  Days first_day_{};
  std::vector<double> model_;
  bool have_model_ = false;
  std::int64_t session_ = -1;
};

}  // namespace ballast::strategies
