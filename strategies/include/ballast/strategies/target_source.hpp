#pragma once
/// Where a rebalancing strategy's targets come from: fixed weights (`targets`), a dated schedule
/// (`schedule`), or a weights model over a `universe` (`weights`, docs/strategies.md). calendar,
/// threshold and dca all read their targets through this, so every model works with each.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/targets.hpp"
#include "ballast/strategies/weighers.hpp"

namespace ballast::strategies {

class TargetSource {
 public:
  /// Reads `targets`/`schedule`, or `universe` + `weights`, from a strategy node.
  static TargetSource Parse(const ConfigNode& strategy);

  [[nodiscard]] const std::vector<std::string>& Symbols() const noexcept { return symbols_; }
  [[nodiscard]] bool IsModel() const noexcept { return weigher_.has_value(); }

  /// Call once per slice. The targets in force today, or nullptr when a model has none yet
  /// (warm-up, or a window too short). A model recomputes its weights only when `recompute` is
  /// true (the strategy's own schedule), and keeps them otherwise; a failed recomputation gives
  /// nullptr for that day. Fixed targets ignore `recompute` and log schedule changes.
  [[nodiscard]] const std::vector<double>* Today(const StrategyContext& ctx, bool recompute);

 private:
  std::vector<std::string> symbols_;
  std::optional<TargetSchedule> fixed_;
  std::optional<Weigher> weigher_;
  std::vector<double> model_;
  bool have_model_ = false;
  std::int64_t session_ = -1;
};

}  // namespace ballast::strategies
