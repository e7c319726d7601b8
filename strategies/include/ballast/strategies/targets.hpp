#pragma once
/// Fixed target weights, as strategies read them from config.

#include <string>
#include <vector>

#include "ballast/engine/config_node.hpp"

namespace ballast::strategies {

struct TargetWeight {
  std::string symbol;
  double weight = 0.0;
};

/// Parses `{"SPY": 0.6, "TLT": 0.4}` (document order kept). Weights must be finite, >= 0 and sum
/// to 1 within 1e-9; a sum of 100 is reported as "looks like percentages".
[[nodiscard]] std::vector<TargetWeight> ParseTargets(const ConfigNode& targets);

}  // namespace ballast::strategies
