#include "ballast/strategies/targets.hpp"

#include <fmt/format.h>

#include <cmath>

#include "ballast/engine/error.hpp"

namespace ballast::strategies {

std::vector<TargetWeight> ParseTargets(const ConfigNode& targets) {
  if (!targets.IsObject())
    targets.Fail("an object of symbol: weight, e.g. {\"SPY\": 0.6, \"TLT\": 0.4}");
  std::vector<TargetWeight> out;
  double sum = 0.0;
  for (const auto& key : targets.Keys()) {
    const ConfigNode w = targets.At(key);
    if (key.empty()) targets.Fail("non-empty symbol names");
    const double v = w.Number();
    if (v < 0.0) w.Fail("a weight >= 0 (short positions are not supported)");
    out.push_back({key, v});
    sum += v;
  }
  if (out.empty()) targets.Fail("at least one symbol");
  if (std::abs(sum - 1.0) > 1e-9) {
    std::string hint;
    if (std::abs(sum - 100.0) < 1e-6) hint = "; they look like percentages: divide by 100";
    targets.Fail(fmt::format("weights summing to 1 (within 1e-9), they sum to {}{}", sum, hint));
  }
  return out;
}

}  // namespace ballast::strategies
