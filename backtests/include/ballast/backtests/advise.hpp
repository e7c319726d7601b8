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

struct AdviseOptions {
  std::string config_path;
  std::vector<std::string> sets;  ///< --set key.path=value
  std::optional<Days> as_of;      ///< default: the store's last session
  std::string db;                 ///< append the signals to this tracker database ("" = no)
};

struct AdviceReport {
  std::string text;
  std::string json;
};

[[nodiscard]] AdviceReport Advise(const AdviseOptions& options,
                                  const strategies::StrategyRegistry& registry);

}  // namespace ballast::backtests
