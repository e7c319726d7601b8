#pragma once
/// `ballast advise`: the morning check of a portfolio of holdings with the `signal_swap` rules —
/// health score and grade, holdings table, watchlist opportunities and numbered
/// recommendations on one date. docs/signals.md describes the report.

#include <optional>
#include <string>
#include <vector>

#include "ballast/engine/time.hpp"
#include "ballast/strategies/registry.hpp"

namespace ballast::backtests {

/// A holding given directly (e.g. read from the broker) instead of the config's `advise` section.
struct AdviseHolding {
  std::string symbol;
  double shares = 0.0;
  double cost_basis = 0.0;  ///< per share; 0 = unknown
};

struct AdviseOptions {
  std::string config_path;
  std::vector<std::string> sets;  ///< --set key.path=value
  std::optional<Days> as_of;      ///< default: the store's last session
  std::string db;                 ///< append the signals to this tracker database ("" = no)
  /// Holdings and cash from elsewhere (the broker); the config's `advise` section is then not
  /// needed. `holdings_origin` names where they came from in messages.
  std::optional<std::vector<AdviseHolding>> holdings;
  double cash = 0.0;
  std::string holdings_origin;
};

struct AdviceReport {
  std::string text;
  std::string json;
};

[[nodiscard]] AdviceReport Advise(const AdviseOptions& options,
                                  const strategies::StrategyRegistry& registry);

}  // namespace ballast::backtests
