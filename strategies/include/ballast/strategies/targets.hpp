#pragma once
/// Target weights as strategies read them from config: a fixed set (`targets`) or a dated
/// schedule of sets (`schedule`, a declarative glide path), plus drift measurement.

#include <span>
#include <string>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/strategy.hpp"

namespace ballast::strategies {

struct TargetWeight {
  std::string symbol;
  double weight = 0.0;
};

/// Parses `{"SPY": 0.6, "TLT": 0.4}` (document order kept). Weights must be finite, >= 0 and sum
/// to 1 within 1e-9; a sum of 100 is reported as "looks like percentages".
[[nodiscard]] std::vector<TargetWeight> ParseTargets(const ConfigNode& targets);

/// Fixed targets or a glide path. Config: either `"targets": {...}` or
/// `"schedule": [{"from": "YYYY-MM-DD", "targets": {...}}, ...]` with increasing dates; each set
/// applies from its date (the first from the run's start). Symbols are the union of all sets in
/// order of first appearance; a symbol absent from a set has weight 0 there.
class TargetSchedule {
 public:
  /// Reads `targets` or `schedule` from a strategy node (exactly one must be present).
  static TargetSchedule Parse(const ConfigNode& strategy);

  [[nodiscard]] const std::vector<std::string>& Symbols() const noexcept { return symbols_; }
  /// Weights in force on `day` (one per symbol).
  [[nodiscard]] const std::vector<double>& WeightsOn(Days day) const noexcept;
  /// True when a new set takes effect on `day`, i.e. `day` is the first session on or after its
  /// date (the first set counts at the run's first session only if `previous` is null).
  [[nodiscard]] bool ChangesOn(Days day, const Days* previous) const noexcept;
  [[nodiscard]] bool IsGlidePath() const noexcept { return sets_.size() > 1; }
  /// Logs `allocation_update` when a new set takes effect on ctx.day (not on the first session).
  void LogUpdate(const StrategyContext& ctx) const;

 private:
  struct Set {
    Days from;
    std::vector<double> weights;
  };
  std::vector<std::string> symbols_;
  std::vector<Set> sets_;  // sorted by from; sets_[0].from is the earliest date
};

/// Current weight of each tradable symbol in `basis` (equity, or the invested value).
void CurrentWeights(const StrategyContext& ctx, double basis, std::vector<double>& out);

/// Largest absolute drift max_i |w_i - t_i| and largest relative drift max_i |w_i / t_i - 1|
/// (over t_i > 0; a held position with target 0 counts as relative drift 1).
struct Drift {
  double absolute = 0.0;
  double relative = 0.0;
};
[[nodiscard]] Drift MeasureDrift(std::span<const double> weights, std::span<const double> targets);

/// JSON object of per-symbol drift (weight - target) for event logs.
[[nodiscard]] std::string DriftJson(const StrategyContext& ctx, std::span<const double> weights,
                                    std::span<const double> targets);

}  // namespace ballast::strategies
