#pragma once
/// The explicit strategy registry: config `strategy.type` -> parser. No static self-registration
/// (the linker would drop unreferenced strategies from a static library).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/strategy.hpp"

namespace ballast::strategies {

/// A strategy parsed from config, before market data is loaded: the symbols it trades (which
/// become panel columns 0..n-1 in this order) and a maker for the strategy itself.
struct StrategySpec {
  std::string type;
  std::vector<std::string> symbols;
  std::function<std::unique_ptr<Strategy>()> make;
  double min_trade_notional =
      0.0;                    ///< the strategy's own minimum trade (e.g. threshold `min_trade`)
  bool needs_margin = false;  ///< borrows (signal_swap `margin`): needs a top-level margin account
};

using StrategyParser = std::function<StrategySpec(const ConfigNode& strategy)>;

class StrategyRegistry {
 public:
  void Register(std::string type, StrategyParser parser);
  /// Parses the `strategy` node by its `type`; a config error listing the known types otherwise.
  [[nodiscard]] StrategySpec Parse(const ConfigNode& strategy) const;
  [[nodiscard]] std::vector<std::string> Types() const;

 private:
  std::map<std::string, StrategyParser, std::less<>> parsers_;
};

/// Registers buy_and_hold, calendar, dca, threshold, sleeves and signal_swap.
void RegisterBuiltinStrategies(StrategyRegistry& registry);

}  // namespace ballast::strategies
