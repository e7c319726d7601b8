#pragma once
/// The strategy API. A strategy looks at read-only views and says *what* the portfolio should
/// hold (target weights); the planner decides how to get there. Strategies never size orders.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/run_record.hpp"

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
  EventLog& events;  ///< for strategy events (drift checks, target changes)
  /// First panel row that trailing windows may read: the first slice's row, or earlier with
  /// `data.use_history_before_start`.
  std::size_t history_row = 0;
  /// constraints.max_weight: the planner keeps every position at or below this share of the
  /// portfolio's value when it trades (strategies that only buy check it to trim).
  double max_weight = std::numeric_limits<double>::infinity();
};

/// How new cash is spread in an investment (see Planner).
enum class Route : std::uint8_t {
  kByWeight,          ///< split the amount by target weight
  kUnderweightFirst,  ///< fill the positions furthest below target first (no sells)
};

/// What a strategy returns when it wants the portfolio changed. `weights` has one entry per
/// tradable symbol (NaN = leave that position as it is); the rest is cash.
struct Target {
  enum class Kind : std::uint8_t {
    kRebalance,  ///< trade every targeted position to its weight of the portfolio's value
    kInvest,     ///< buy only: spend `invest_amount` of cash across the targets (per `route`)
    kFlowOnly,   ///< book `external_flow` (and any withdrawal) without trading
  };
  std::vector<double> weights;
  std::string_view reason;  ///< short static label for the event log ("scheduled", "initial")
  Kind kind = Kind::kRebalance;
  double invest_amount = 0.0;  ///< kInvest: cash to spend (capped at the cash available)
  Route route = Route::kByWeight;
  double min_investment =
      0.0;  ///< kInvest: skip a symbol whose share is below this and redistribute
  /// External cash flow booked before planning: > 0 contribution, < 0 withdrawal.
  double external_flow = 0.0;
  /// Withdrawal (> 0) paid out of cash once this decision's sells have filled; whatever the cash
  /// cannot cover when no order is left open is logged as `capital_insufficient` and dropped.
  double withdraw_after_fills = 0.0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  [[nodiscard]] virtual std::string_view Type() const noexcept = 0;
  /// Called once per session, at its first slice, after marking to market. Returns true and
  /// fills `target` (pre-sized to the tradable symbols) to rebalance now.
  [[nodiscard]] virtual bool Decide(const StrategyContext& ctx, Target& target) = 0;
  /// Called instead of Decide on a further slice of the session Decide already saw (a live
  /// session's market-data stream between its scheduled checks). Schedules count each session
  /// once, so this never makes a scheduled decision again: only rules that watch prices (drift
  /// bands) override it. Same contract as Decide.
  [[nodiscard]] virtual bool Recheck(const StrategyContext& /*ctx*/, Target& /*target*/) {
    return false;
  }
};

}  // namespace ballast
