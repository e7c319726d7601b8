#pragma once
/// The strategy API. A strategy looks at read-only views and says *what* the portfolio should
/// hold (target weights); the planner decides how to get there. Strategies never size orders.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/calendar.hpp"

namespace ballast {

/// Read-only portfolio state at the current slice, valued at the last close of each symbol.
struct PortfolioView {
  std::span<const double> quantities;
  std::span<const double> marks;
  double cash = 0.0;
  double equity = 0.0;
};

struct StrategyContext {
  const BarPanel& panel;
  std::size_t row;                  ///< current slice
  Days day;                         ///< its session date
  std::size_t tradable;             ///< columns [0, tradable) are the portfolio's symbols
  bool first_slice;                 ///< the run's first slice (always allocates)
  const Days* previous_session;     ///< the previous slice's date, or nullptr on the first
  const SessionCalendar& sessions;  ///< which session comes next
  PortfolioView portfolio;
};

/// What a strategy returns when it wants the portfolio changed. `weights` has one entry per
/// tradable symbol (NaN = leave that position as it is); the rest is cash.
struct Target {
  std::vector<double> weights;
  std::string_view reason;  ///< short static label for the event log ("scheduled", "initial")
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  [[nodiscard]] virtual std::string_view Type() const noexcept = 0;
  /// Called once per slice, after marking to market. Returns true and fills `target` (pre-sized
  /// to the tradable symbols) to rebalance now.
  [[nodiscard]] virtual bool Decide(const StrategyContext& ctx, Target& target) = 0;
};

}  // namespace ballast
